package pipeline

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/explain"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/report"
)

// TestReportSHAPInInputUnits trains a logistic model on the penguins,
// whose design standardises the numeric inputs, and checks that the
// report's SHAP feature values of bill_length_mm are the bill lengths in
// millimetres (32.1 to 59.6 in the data), not the standardised values
// (about -2 to 2) the dependence plot showed.
func TestReportSHAPInInputUnits(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "corpus", "palmerpenguins_penguins.csv"), "species"
	cfg.Models, cfg.CVFolds, cfg.ForceProductionQuality, cfg.Out = []string{"logistic"}, 0, false, t.TempDir()
	res, err := Train(ctx, cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := LoadPredictor(res.ModelPath, Families())
	if err != nil {
		t.Fatal(err)
	}
	f, err := frame.ReadFile(cfg.Data, frame.ReadOptions{Schema: p.ReadSchema()})
	if err != nil {
		t.Fatal(err)
	}
	d := &report.Data{}
	explainRun(ctx, cfg, p, f, d, func(what string, err error) { t.Errorf("%s: %v", what, err) })
	if d.SHAP == nil {
		t.Fatal("no SHAP values")
	}
	// Linear SHAP decomposes the softmax's inputs; each row's predicted
	// class is plotted.
	if want := "softmax score of the predicted class"; d.SHAP.Output != want {
		t.Errorf("SHAP output %q; want %q", d.SHAP.Output, want)
	}
	// One-hot levels are summed into their column, as an ensemble's are.
	for _, names := range [][]string{d.SHAP.Features, importanceNames(d.FeatureImportance)} {
		for _, want := range []string{"island", "sex", "bill_length_mm"} {
			if !slices.Contains(names, want) {
				t.Errorf("SHAP features or importances %q; want input column %s among them", names, want)
			}
		}
		if slices.Contains(names, "island_Dream") {
			t.Errorf("SHAP features or importances %q name a one-hot level", names)
		}
	}
	j := slices.Index(d.SHAP.Features, "bill_length_mm")
	if j < 0 {
		t.Fatalf("no bill_length_mm among the SHAP features %q", d.SHAP.Features)
	}
	col, _ := f.Lookup("bill_length_mm")
	n := 0
	for r, fv := range d.SHAP.FeatureValues {
		v := fv[j]
		if v != v { // a missing bill length
			continue
		}
		n++
		if !slices.Contains(col.Num, v) {
			t.Fatalf("row %d: bill_length_mm %v is no bill length of the data", r, v)
		}
	}
	if n == 0 {
		t.Fatal("no bill_length_mm values")
	}
}

func TestSHAPOutput(t *testing.T) {
	named := func(out explain.Output, names ...string) *explain.Values {
		return &explain.Values{Output: out, OutputNames: names}
	}
	tests := []struct {
		v    *explain.Values
		t    Target
		want string
	}{
		{named(explain.OutputMargin, "bad"), Target{Name: "Status", Task: model.Binary}, "log-odds of bad"},
		{named(explain.OutputPrediction, "bad"), Target{Name: "Status", Task: model.Binary}, "probability of bad"},
		{named(explain.OutputPrediction, "Adelie", "Chinstrap"), Target{Name: "species", Task: model.Multiclass}, "probability of class Adelie"},
		{named(explain.OutputMargin, "Adelie", "Chinstrap"), Target{Name: "species", Task: model.Multiclass}, "softmax score of Adelie"},
		{named(explain.OutputPrediction), Target{Name: "Sale_Price", Task: model.Regression}, "predicted Sale_Price"},
		{named(explain.OutputMargin), Target{Name: "Sale_Price", Task: model.Regression}, "log(1 + Sale_Price)"},
	}
	for _, tt := range tests {
		if got := shapOutput(tt.v, 0, tt.t); got != tt.want {
			t.Errorf("shapOutput(%s, %s) = %q; want %q", tt.v.Output, tt.t.Task, got, tt.want)
		}
	}
}

func importanceNames(imp []report.Importance) []string {
	var out []string
	for _, f := range imp {
		out = append(out, f.Feature)
	}
	return out
}

// TestSHAPPlotsPredictedClass checks that a multiclass report plots each
// row's values for the class its values add up highest, not the first
// class for every row.
func TestSHAPPlotsPredictedClass(t *testing.T) {
	// 3 rows × 3 classes × 2 features, row-major (row, class, feature);
	// base values 0, 1, 0: row 0's class sums are 1, 1.5, 0 (class 1),
	// row 1's 0, 1, 4 (class 2), row 2's 2, 2, -1 (a tie: class 0).
	v := &explain.Values{
		Rows: 3, Outputs: 3, Features: 2, FeatureNames: []string{"a", "b"}, OutputNames: []string{"x", "y", "z"},
		BaseValue: []float64{0, 1, 0}, Output: explain.OutputMargin,
		Values: []float64{
			0.5, 0.5, 0.25, 0.25, 0, 0,
			0, 0, -1, 1, 3, 1,
			1, 1, 0.5, 0.5, -1, 0,
		},
		X: []float64{1, 2, 3, 4, 5, 6},
	}
	ks := predictedOutputs(v)
	if want := []int{1, 2, 0}; !slices.Equal(ks, want) {
		t.Fatalf("predictedOutputs = %v; want %v", ks, want)
	}
	sh := shapData(v, ks, []bool{false, false}, nil, false)
	want := [][]float64{{0.25, 0.25}, {3, 1}, {1, 1}}
	for r := range want {
		if !slices.Equal(sh.Values[r], want[r]) {
			t.Errorf("row %d plotted values %v; want %v (its predicted class's)", r, sh.Values[r], want[r])
		}
	}
	if got := predictedOutputs(&explain.Values{Rows: 2, Outputs: 1, Features: 1, Values: []float64{5, -5}, BaseValue: []float64{0}}); !slices.Equal(got, []int{0, 0}) {
		t.Errorf("predictedOutputs of one output = %v; want [0 0]", got)
	}
	for _, c := range []struct {
		out  explain.Output
		want string
	}{
		{explain.OutputMargin, "softmax score of the predicted class"},
		{explain.OutputPrediction, "probability of the predicted class"},
	} {
		v.Output = c.out
		if got := shapOutput(v, predictedClass, Target{Name: "species", Task: model.Multiclass}); got != c.want {
			t.Errorf("shapOutput(%s, predicted class) = %q; want %q", c.out, got, c.want)
		}
	}
}
