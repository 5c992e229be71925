package pipeline

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/explain"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/progress"
)

// TestExplainPredictors explains a single model (in design space, exact
// TreeSHAP) and an ensemble (KernelSHAP on raw inputs, asked for: its
// logistic member would get interventional SHAP) of credit data and
// checks that the raw input space reproduces the predictor's outputs
// exactly and that both explanations are locally accurate: base value
// plus the row's SHAP values equals the predictor's output.
func TestExplainPredictors(t *testing.T) {
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"logistic", "tree"}, 2, t.TempDir()
	cfg.EnsembleTopK, cfg.EnsembleMethod = 2, config.EnsembleAverage
	p, lb, fitted := ensembleRun(t, cfg)
	entries, preds, _ := buildEnsembles(context.Background(), cfg, p, lb, fitted)
	if len(entries) != 1 || entries[0].Model != ensembleAverage {
		t.Fatalf("ensembles %+v; want the average", entries)
	}
	xtest := p.x.Take(p.test)
	for _, tc := range []struct {
		name   string
		pred   *Predictor
		raw    bool
		method explain.Method
	}{
		{"tree", fitted["tree"], false, explain.MethodTree},
		{"average", preds[ensembleAverage], true, explain.MethodKernel},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := tc.pred.Predict(xtest)
			if err != nil {
				t.Fatal(err)
			}
			in, err := NewExplainInput(tc.pred, xtest)
			if err != nil {
				t.Fatal(err)
			}
			if in.Raw != tc.raw {
				t.Fatalf("raw input = %v; want %v", in.Raw, tc.raw)
			}
			if in.Raw {
				got := make([]float64, in.X.Rows*in.Outputs)
				if err := in.Predict(got, in.X); err != nil {
					t.Fatal(err)
				}
				for i, v := range got {
					if v != want.Values[i] {
						t.Fatalf("row %d: raw-input prediction %v; the predictor says %v", i, v, want.Values[i])
					}
				}
			}
			var last progress.Event
			events := 0
			o := ExplainOptions{MaxRows: 15, Options: explain.Options{Seed: 7, BackgroundSize: 5, KernelSamples: 200,
				Progress: func(e progress.Event) { events, last = events+1, e }}}
			if tc.raw {
				o.Method = explain.MethodKernel
			}
			v, err := Explain(context.Background(), tc.pred, xtest, o)
			if err != nil {
				t.Fatal(err)
			}
			// KernelSHAP reports each row (and a start); TreeSHAP is quick.
			if tc.raw && (events != 16 || last.Stage != progress.ExplainRow || last.Step != 15 || last.Total != 15) {
				t.Errorf("%d progress events, last %+v; want 16, the last explain_row 15/15", events, last)
			} else if !tc.raw && events != 0 {
				t.Errorf("%d progress events from TreeSHAP; want none", events)
			}
			if v.Method != tc.method || len(v.RowIndex) != 15 {
				t.Fatalf("method %s, %d rows; want %s on 15", v.Method, len(v.RowIndex), tc.method)
			}
			if tc.raw && (len(v.Notes) == 0 || !strings.Contains(v.Notes[0], "raw input")) {
				t.Errorf("notes %q; want the raw-input KernelSHAP noted", v.Notes)
			}
			for r, row := range v.RowIndex {
				f := want.Values[row]
				if v.Output == explain.OutputMargin {
					f = math.Log(f / (1 - f))
				}
				if got := v.Sum(r, 0); math.Abs(got-f) > 1e-6*math.Max(1, math.Abs(f)) {
					t.Errorf("row %d: base + Σφ = %v; the output is %v", row, got, f)
				}
			}
		})
	}
	if _, err := Explain(context.Background(), preds[ensembleAverage], xtest, ExplainOptions{MaxRows: 2,
		Options: explain.Options{Method: explain.MethodLinear}}); err == nil || !strings.Contains(err.Error(), "KernelSHAP") {
		t.Errorf("linear SHAP of an ensemble: %v; want an error pointing to KernelSHAP", err)
	}
}

// TestExplainOneRowWithBackground: an ensemble explained on one row
// measures it against its training background. With the row as its own
// background (models saved before they kept one) every SHAP value was 0
// and the base value the row's own prediction.
func TestExplainOneRowWithBackground(t *testing.T) {
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"logistic", "tree"}, 2, t.TempDir()
	cfg.EnsembleTopK, cfg.EnsembleMethod = 2, config.EnsembleAverage
	p, lb, fitted := ensembleRun(t, cfg)
	_, preds, _ := buildEnsembles(context.Background(), cfg, p, lb, fitted)
	avg := *preds[ensembleAverage]
	avg.Schema = schemaOf(p.x, p.train)
	bg, err := trainingBackground(p.x, p.train, avg.Schema, 1)
	if err != nil {
		t.Fatal(err)
	}
	avg.Background = bg
	// Round trip: the background is saved with the model.
	path := filepath.Join(t.TempDir(), "avg.tfm")
	if err := avg.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadPredictor(path, Families())
	if err != nil || loaded.Background != bg {
		t.Fatalf("background after a round trip: %v (equal %v)", err, loaded != nil && loaded.Background == bg)
	}
	one := p.x.Take(p.test[:1])
	want, err := loaded.Predict(one)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Explain(context.Background(), loaded, one, ExplainOptions{Options: explain.Options{Seed: 7, BackgroundSize: 10, KernelSamples: 300}})
	if err != nil {
		t.Fatal(err)
	}
	nonzero := 0
	for _, x := range v.Values {
		if x != 0 {
			nonzero++
		}
	}
	f := want.Values[0]
	if nonzero == 0 || math.Abs(v.BaseValue[0]-f) < 1e-9 {
		t.Errorf("one row: %d nonzero SHAP values, base %v, prediction %v; want the row measured against the training background", nonzero, v.BaseValue[0], f)
	}
	if got := v.Sum(0, 0); math.Abs(got-f) > 1e-6 {
		t.Errorf("base + Σφ = %v; the output is %v", got, f)
	}
}

// TestSavedTrainingRows: a saved model keeps 100 training rows of its
// input columns for explanations, none with strip_training_rows.
func TestSavedTrainingRows(t *testing.T) {
	for _, strip := range []bool{false, true} {
		cfg := config.Default()
		cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
		cfg.Models, cfg.CVFolds, cfg.Out, cfg.ForceProductionQuality = []string{"logistic"}, 0, t.TempDir(), false
		cfg.StripTrainingRows = strip
		_, p := trainSaved(t, cfg)
		lines := strings.Count(p.Background, "\n")
		if want := map[bool]int{false: 101, true: 0}[strip]; lines != want || (!strip && !strings.HasPrefix(p.Background, "Seniority,")) {
			t.Errorf("strip %v: background of %d lines (%.40q); want %d, header first", strip, lines, p.Background, want)
		}
	}
}

// TestExplainOneRowDesignBackground: a single model's KernelSHAP (in
// design space) and LIME measure one row against the training rows the
// model keeps, as the raw-input KernelSHAP of an ensemble does. Both used
// the explained rows instead, so one row got SHAP values of 0 with its own
// prediction as base value, and LIME surrogates with every coefficient 0.
func TestExplainOneRowDesignBackground(t *testing.T) {
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	cfg.Models, cfg.CVFolds, cfg.Out, cfg.ForceProductionQuality = []string{"logistic"}, 0, t.TempDir(), false
	_, p := trainSaved(t, cfg)
	x, _, err := p.ReadInputFrom(func(o frame.ReadOptions) (*frame.Frame, error) { return frame.ReadFile(cfg.Data, o) }, frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	one := x.Take([]int{0})
	want, err := p.Predict(one)
	if err != nil {
		t.Fatal(err)
	}
	opts := ExplainOptions{Options: explain.Options{Method: explain.MethodKernel, Seed: 7}}
	v, err := Explain(context.Background(), p, one, opts)
	if err != nil {
		t.Fatal(err)
	}
	f := want.Values[0]
	if nonzero(v.Values) == 0 || math.Abs(v.BaseValue[0]-f) < 1e-9 || len(v.Notes) != 0 {
		t.Errorf("KernelSHAP of one row: %d nonzero values, base %v, prediction %v, notes %q; want the row measured against the training rows",
			nonzero(v.Values), v.BaseValue[0], f, v.Notes)
	}
	if got := v.Sum(0, 0); math.Abs(got-f) > 1e-6 {
		t.Errorf("base + Σφ = %v; the output is %v", got, f)
	}
	ex, rows, err := LIME(context.Background(), p, one, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || len(ex.Results) != 1 || nonzero(ex.Results[0].Coef) == 0 {
		t.Errorf("LIME of one row: rows %v, %d surrogates, coefficients %v; want the row's surrogate over the training rows", rows, len(ex.Results), ex.Results)
	}
}

func nonzero(v []float64) int {
	n := 0
	for _, x := range v {
		if x != 0 {
			n++
		}
	}
	return n
}

// TestExplainStrippedNote: a model saved without training rows is
// explained against every row of the data, not only those explained, and
// the note says so. It said "the explained rows themselves ... with one
// row every value is 0" while one chosen row of many got nonzero values.
func TestExplainStrippedNote(t *testing.T) {
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	cfg.Models, cfg.CVFolds, cfg.Out, cfg.ForceProductionQuality = []string{"logistic"}, 0, t.TempDir(), false
	cfg.StripTrainingRows = true
	_, p := trainSaved(t, cfg)
	x, _, err := p.ReadInputFrom(func(o frame.ReadOptions) (*frame.Frame, error) { return frame.ReadFile(cfg.Data, o) }, frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x = x.Take(seq(300))
	v, err := Explain(context.Background(), p, x, ExplainOptions{Rows: []int{0},
		Options: explain.Options{Method: explain.MethodKernel, Seed: 7, BackgroundSize: 10, KernelSamples: 200}})
	if err != nil {
		t.Fatal(err)
	}
	want := "measured against the 300 rows of the data given"
	if nonzero(v.Values) == 0 || len(v.Notes) != 1 || !strings.Contains(v.Notes[0], want) {
		t.Errorf("one row of 300: %d nonzero values, notes %q; want nonzero values and a note %q", nonzero(v.Values), v.Notes, want)
	}
}
