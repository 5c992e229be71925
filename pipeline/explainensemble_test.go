package pipeline

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/ensemble"
	"github.com/tabforge/tabforge/explain"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/report"
)

// TestExplainEnsembleExact builds the pipeline's ensembles on real data
// and explains each on its input columns: every member has an exact
// explainer of its prediction (ridge, tree, gbdt regressors on Ames,
// whose one-hot and ordinal designs differ; tree and forest classifiers
// on credit data), so the values are the members' exact values combined,
// not KernelSHAP's estimate, and base + Σφ equals the ensemble's output
// to 1e-9: its prediction, or for logistic stacking its log-odds (read
// back through logit, which costs a few digits: 1e-8).
func TestExplainEnsembleExact(t *testing.T) {
	for _, tc := range []struct {
		data, target string
		models       []string
	}{
		{"ames.csv", "Sale_Price", []string{"ridge", "tree", "gbdt"}},
		{"credit_data.csv", "Status", []string{"tree", "forest"}},
	} {
		cfg := config.Default()
		cfg.Data, cfg.Target = filepath.Join("..", "testdata", tc.data), tc.target
		cfg.Models, cfg.CVFolds, cfg.Out = tc.models, 2, t.TempDir()
		cfg.ModelParams = map[string]map[string]any{"gbdt": {"n_estimators": 30}, "forest": {"n_estimators": 10}, "tree": {"max_depth": 6}}
		cfg.EnableAdvancedEnsemble, cfg.EnsembleTopK = true, len(tc.models)
		cfg.TargetTransform = config.TargetNone // log-target members fall back (TestExplainEnsembleFallsBack)
		p, lb, fitted := ensembleRun(t, cfg)
		entries, preds, _ := buildEnsembles(context.Background(), cfg, p, lb, fitted)
		if len(entries) < 3 {
			t.Fatalf("%s: ensembles %+v; want voting, stacking and selection", tc.data, entries)
		}
		xtest := p.x.Take(p.test)
		for _, e := range entries {
			t.Run(tc.data+"/"+e.Model, func(t *testing.T) {
				checkExactEnsemble(t, preds[e.Model], xtest)
			})
		}
	}
}

// predictExplain predicts x with pred and explains 40 of its rows (seed
// 3), as the report would.
func predictExplain(t *testing.T, pred *Predictor, x *frame.Frame) (*Prediction, *explain.Values) {
	t.Helper()
	want, err := pred.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Explain(context.Background(), pred, x, ExplainOptions{MaxRows: 40, Options: explain.Options{Seed: 3}})
	if err != nil {
		t.Fatal(err)
	}
	return want, v
}

// checkExactEnsemble explains 40 rows of x with ensemble pred and checks
// the exact path took them, locally accurately, as the report would.
func checkExactEnsemble(t *testing.T, pred *Predictor, x *frame.Frame) {
	t.Helper()
	want, v := predictExplain(t, pred, x)
	if v.Method == explain.MethodKernel || !v.Exact || len(v.Notes) == 0 || !strings.Contains(v.Notes[0], "exact") {
		t.Fatalf("method %s exact %v, notes %q; want the members' exact values combined", v.Method, v.Exact, v.Notes)
	}
	if v.Features != len(pred.Schema) {
		t.Fatalf("%d features; want the %d input columns", v.Features, len(pred.Schema))
	}
	tol := 1e-9
	if v.Output == explain.OutputMargin {
		tol = 1e-8
	}
	for r, row := range v.RowIndex {
		f := want.Values[row]
		if v.Output == explain.OutputMargin {
			f = math.Log(f / (1 - f))
		}
		if got := v.Sum(r, 0); math.Abs(got-f) > tol*math.Max(1, math.Abs(f)) {
			t.Fatalf("row %d: base + Σφ = %v; the ensemble's output is %v", row, got, f)
		}
	}
	in, err := NewExplainInput(pred, x)
	if err != nil {
		t.Fatal(err)
	}
	if !exactExplainer(pred, in).exact {
		t.Error("the report would size this ensemble's explanation for KernelSHAP")
	}
	var d report.Data
	cfg := config.Default()
	explainRun(context.Background(), cfg, pred, x, &d, func(what string, err error) { t.Errorf("report: %s: %v", what, err) })
	for _, w := range d.Warnings {
		if strings.HasPrefix(w, "report: SHAP: ") {
			t.Errorf("the report warns about exact values: %q", w)
		}
	}
}

// TestExplainEnsembleFallsBack: --raw (Raw) and method kernel keep
// KernelSHAP on the raw columns, on an ensemble the exact path could
// explain and on one interventional SHAP could.
func TestExplainEnsembleFallsBack(t *testing.T) {
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"logistic", "tree", "forest"}, 2, t.TempDir()
	cfg.ModelParams = map[string]map[string]any{"forest": {"n_estimators": 10}}
	cfg.EnableAdvancedEnsemble, cfg.UseStacking, cfg.UseSelection, cfg.EnsembleTopK = true, false, false, 3
	p, lb, fitted := ensembleRun(t, cfg)
	_, preds, _ := buildEnsembles(context.Background(), cfg, p, lb, fitted)
	withLogistic := preds[ensembleVoting]
	if withLogistic == nil || len(withLogistic.Members) != 3 {
		t.Fatalf("no 3-member vote: %v", preds)
	}
	trees := *withLogistic
	trees.Members = nil
	for _, m := range withLogistic.Members {
		if m.Name != "logistic" {
			trees.Members = append(trees.Members, m)
		}
	}
	var err error
	if trees.Combiner, err = ensemble.VotingCombiner(2, 1, nil); err != nil {
		t.Fatal(err)
	}
	x := p.x.Take(p.test)
	for _, tc := range []struct {
		name string
		pred *Predictor
		o    ExplainOptions
	}{
		{"raw", &trees, ExplainOptions{Raw: true}},
		{"kernel", &trees, ExplainOptions{Options: explain.Options{Method: explain.MethodKernel}}},
		{"kernel-interventional", withLogistic, ExplainOptions{Options: explain.Options{Method: explain.MethodKernel}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.MaxRows, tc.o.Seed, tc.o.BackgroundSize, tc.o.KernelSamples = 3, 5, 5, 100
			v, err := Explain(context.Background(), tc.pred, x, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if notes := strings.Join(v.Notes, "; "); v.Method != explain.MethodKernel || !strings.Contains(notes, "KernelSHAP") {
				t.Fatalf("method %s, notes %q; want KernelSHAP", v.Method, v.Notes)
			}
		})
	}
	if v, err := Explain(context.Background(), &trees, x, ExplainOptions{MaxRows: 3}); err != nil || v.Method != explain.MethodTree {
		t.Fatalf("tree and forest vote: method %v, error %v; want exact TreeSHAP", v, err)
	}
	// Greedy selection gives many candidates weight 0: a logistic member
	// it dropped does not keep the others from an exact explanation.
	selected := *withLogistic
	w := []float64{1, 1, 1}
	for i, m := range selected.Members {
		if m.Name == "logistic" {
			w[i] = 0
		}
	}
	if selected.Combiner, err = ensemble.VotingCombiner(3, 1, w); err != nil {
		t.Fatal(err)
	}
	checkExactEnsemble(t, &selected, x)
}

// TestExplainEnsembleCollinear: midwest's five race percentages sum to
// 100 within 1e-7, so OLS on them has coefficients near 1e7 that cancel,
// and its exact values part from its prediction by 1e-9 of it in
// rounding. Averaged with a gbdt fitted on log(1+y) (interventional SHAP)
// or a plain one (the members' exact values), the ensemble is still
// explained exactly, within the tolerance the values state, not with
// KernelSHAP because a fixed tolerance called the OLS member's values
// wrong.
func TestExplainEnsembleCollinear(t *testing.T) {
	for _, transform := range []string{"log", "none"} {
		t.Run(transform, func(t *testing.T) {
			cfg := config.Default()
			cfg.Data, cfg.Target = filepath.Join("..", "testdata", "midwest.csv"), "percbelowpoverty"
			cfg.Models, cfg.CVFolds, cfg.Out = []string{"ols", "gbdt"}, 2, t.TempDir()
			cfg.TargetTransform = config.TargetNone
			cfg.ModelParams = map[string]map[string]any{"gbdt": {"n_estimators": 30, "target_transform": transform}}
			cfg.EnsembleTopK, cfg.EnsembleMethod = 2, config.EnsembleAverage
			p, pred := averageRun(t, cfg)
			x := p.x.Take(p.test)
			want, v := predictExplain(t, pred, x)
			if v.Method == explain.MethodKernel {
				t.Fatalf("explained with KernelSHAP; notes %q", v.Notes)
			}
			f := make([]float64, v.Rows)
			for r, row := range v.RowIndex {
				f[r] = want.Values[row]
			}
			if _, err := v.CheckLocalAccuracy(f, v.Tolerance); err != nil {
				t.Fatal(err)
			}
			// The report says when the values are rescaled through a
			// link, not exact, and only then.
			d := &report.Data{}
			explainRun(context.Background(), cfg, pred, x, d, func(what string, err error) { t.Fatalf("%s: %v", what, err) })
			labelled := strings.Contains(strings.Join(d.Warnings, "; "), "background rows: the margin's values against each background row rescaled through the exp link")
			if labelled != (transform == "log") {
				t.Errorf("warnings %q; want the exp link's note: %v", d.Warnings, transform == "log")
			}
		})
	}
}
