package eval_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/linear"
	"github.com/tabforge/tabforge/model/tree"
)

func TestTopErrors(t *testing.T) {
	y := []float64{10, 20, 30, 40}
	pred := []float64{11, 10, 30, 55}
	got, err := eval.TopErrors(y, pred, []string{"a", "b", "c", "d"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Row != 3 || got[1].Row != 1 {
		t.Fatalf("TopErrors = %+v; want rows 3, 1", got)
	}
	if got[0].Residual != -15 || got[0].RelError != 0.375 || got[0].Segment != "d" {
		t.Errorf("row 3: %+v; want residual -15, rel 0.375, segment d", got[0])
	}
	if _, err := eval.TopErrors(y, pred[:3], nil, 2); err == nil {
		t.Error("length mismatch: no error")
	}
}

func TestResidualsByBins(t *testing.T) {
	// x = 0..9 and a NaN; the model is exact for x < 5 and 10 too low
	// above: the upper bins must show a mean residual of 10.
	x := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, math.NaN()}
	y := make([]float64, len(x))
	pred := make([]float64, len(x))
	for i, v := range x {
		y[i] = 100 + v
		if math.IsNaN(v) {
			y[i] = 100
		}
		pred[i] = y[i]
		if v >= 5 {
			pred[i] -= 10
		}
	}
	bins, err := eval.ResidualsByBins(x, y, pred, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(bins) != 3 || bins[2].Label != "missing" {
		t.Fatalf("bins = %+v; want 2 bins and a missing bin", bins)
	}
	if bins[0].Rows != 5 || bins[0].MeanResidual != 0 || bins[0].Lo != 0 || bins[0].Hi != 4 {
		t.Errorf("bin 0 = %+v; want 5 exact rows over [0, 4]", bins[0])
	}
	if bins[1].MeanResidual != 10 || bins[1].MAE != 10 || bins[1].Within20 != 100 {
		t.Errorf("bin 1 = %+v; want mean residual 10", bins[1])
	}
	// Ties never straddle bins.
	tied, err := eval.ResidualsByBins([]float64{1, 1, 1, 1, 2}, []float64{1, 1, 1, 1, 1}, []float64{1, 1, 1, 1, 1}, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(tied) != 2 || tied[0].Rows != 4 {
		t.Errorf("tied bins = %+v; want [1,1] with 4 rows and [2,2]", tied)
	}
}

func TestWorstSegments(t *testing.T) {
	seg := []string{"a", "a", "b", "b", "c"}
	y := []float64{100, 100, 100, 100, 100}
	pred := []float64{100, 150, 100, 105, 10}
	got, err := eval.WorstSegments(seg, y, pred, 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	// c has one row and is left out; a (50% within) is worse than b.
	if len(got) != 2 || got[0].Label != "a" || got[0].Within20 != 50 || got[1].Label != "b" {
		t.Errorf("WorstSegments = %+v; want a (50%%) then b", got)
	}
}

func TestCalibration(t *testing.T) {
	// Ten rows at p = 0.15 of which 2 are positive (0.2 observed) and ten
	// at p = 0.85 with 8 positive (0.8 observed): ECE = 0.05.
	var y, p []float64
	for i := range 10 {
		p = append(p, 0.15)
		y = append(y, float64(boolInt(i < 2)))
	}
	for i := range 10 {
		p = append(p, 0.85)
		y = append(y, float64(boolInt(i < 8)))
	}
	c, err := eval.Calibration(y, p, 2, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Bins) != 2 || math.Abs(c.ECE-0.05) > 1e-12 {
		t.Errorf("bins %d, ECE %v; want 2, 0.05", len(c.Bins), c.ECE)
	}
	// Brier: 2·0.85² + 8·0.15² for the first ten, the same for the rest.
	if want := (2 * (2*0.85*0.85 + 8*0.15*0.15)) / 20; math.Abs(c.Brier-want) > 1e-12 {
		t.Errorf("Brier %v; want %v", c.Brier, want)
	}
	// Multiclass: top-label confidence against accuracy.
	mc, err := eval.Calibration([]float64{0, 1, 2}, []float64{0.9, 0.05, 0.05, 0.1, 0.8, 0.1, 0.6, 0.3, 0.1}, 3, 5)
	if err != nil {
		t.Fatal(err)
	}
	if !mc.TopLabel || len(mc.Bins) != 2 {
		t.Errorf("multiclass calibration %+v; want top-label with 2 bins", mc)
	}
	if _, err := eval.Calibration([]float64{0, 1}, []float64{0.5, 1.5}, 2, 10); err == nil {
		t.Error("probability 1.5: no error")
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func ptr(v float64) *float64 { return &v }

// pdpOf computes partial dependence by a plain loop over a fitted model:
// set column j of every row to each grid value and average.
func pdpOf(t *testing.T, m model.Model, x *model.Matrix, names []string) func(string, []float64) ([]float64, error) {
	return func(feature string, grid []float64) ([]float64, error) {
		j := -1
		for i, n := range names {
			if n == feature {
				j = i
			}
		}
		out := make([]float64, len(grid))
		tmp := &model.Matrix{Rows: x.Rows, Cols: x.Cols, Data: append([]float64(nil), x.Data...)}
		pred := make([]float64, x.Rows)
		for g, v := range grid {
			for r := range tmp.Rows {
				tmp.Data[r*tmp.Cols+j] = v
			}
			if err := m.Predict(pred, tmp); err != nil {
				return nil, err
			}
			for _, p := range pred {
				out[g] += p / float64(len(pred))
			}
		}
		return out, nil
	}
}

func TestCheckRules(t *testing.T) {
	// y = 3·x0 - 2·x1 + noise-free: a linear model is increasing in x0
	// and decreasing in x1.
	train, _, _ := noisyProblem(2, 300, 1, 1, 0)
	for i := range train.Y {
		r := train.X.Row(i)
		train.Y[i] = 10 + 3*r[0] - 2*r[1]
	}
	train.FeatureNames = []string{"x0", "x1", "x2", "x3", "x4"}
	m, err := linear.Regression{}.Fit(context.Background(), train, model.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pred := make([]float64, train.X.Rows)
	if err := m.Predict(pred, train.X); err != nil {
		t.Fatal(err)
	}
	segs := make([]string, len(pred))
	for i := range segs {
		segs[i] = []string{"north", "south"}[i%2]
	}
	// Make the south segment bad: 40% too high.
	bad := append([]float64(nil), pred...)
	for i := range bad {
		if i%2 == 1 {
			bad[i] *= 1.4
		}
	}
	in := eval.RuleInput{
		Y: train.Y, Pred: pred, Segments: segs,
		Feature: func(name string) ([]float64, bool) {
			for j, n := range train.FeatureNames {
				if n == name {
					col := make([]float64, train.X.Rows)
					for i := range col {
						col[i] = train.X.At(i, j)
					}
					return col, true
				}
			}
			return nil, false
		},
		PartialDependence: pdpOf(t, m, train.X, train.FeatureNames),
	}
	badIn := in
	badIn.Pred = bad
	tests := []struct {
		name string
		rule eval.Rule
		in   eval.RuleInput
		pass bool
		err  string
	}{
		{"positive", eval.Rule{Name: "p", Kind: eval.RuleBounds, Min: ptr(0)}, in, true, ""},
		{"below 11", eval.Rule{Name: "p", Kind: eval.RuleBounds, Max: ptr(11)}, in, false, ""},
		{"nan min", eval.Rule{Name: "p", Kind: eval.RuleBounds, Min: ptr(math.NaN())}, in, false, "finite"},
		{"inf max", eval.Rule{Name: "p", Kind: eval.RuleBounds, Min: ptr(0), Max: ptr(math.Inf(1))}, in, false, "finite"},
		{"increasing x0", eval.Rule{Name: "m", Kind: eval.RuleMonotonic, Feature: "x0", Direction: "increasing"}, in, true, ""},
		{"increasing x1", eval.Rule{Name: "m", Kind: eval.RuleMonotonic, Feature: "x1", Direction: "increasing"}, in, false, ""},
		{"decreasing x1", eval.Rule{Name: "m", Kind: eval.RuleMonotonic, Feature: "x1", Direction: "decreasing"}, in, true, ""},
		{"unknown feature", eval.Rule{Name: "m", Kind: eval.RuleMonotonic, Feature: "zz", Direction: "decreasing"}, in, false, "not found"},
		{"no pdp", eval.Rule{Name: "m", Kind: eval.RuleMonotonic, Feature: "x0", Direction: "increasing"}, eval.RuleInput{Y: in.Y, Pred: in.Pred}, false, "partial dependence"},
		{"floor ok", eval.Rule{Name: "f", Kind: eval.RuleSegmentFloor, Threshold: 90}, in, true, ""},
		{"floor south", eval.Rule{Name: "f", Kind: eval.RuleSegmentFloor, Threshold: 90}, badIn, false, ""},
		{"off share ok", eval.Rule{Name: "o", Kind: eval.RuleMaxOffShare, Tolerance: 0.3, Threshold: 5}, in, true, ""},
		{"off share bad", eval.Rule{Name: "o", Kind: eval.RuleMaxOffShare, Tolerance: 0.3, Threshold: 5}, badIn, false, ""},
		{"bad kind", eval.Rule{Name: "x", Kind: "nope"}, in, false, "unknown kind"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := eval.CheckRules([]eval.Rule{tc.rule}, tc.in)[0]
			if got.Passed != tc.pass {
				t.Errorf("passed = %v; want %v (%+v)", got.Passed, tc.pass, got)
			}
			if tc.err == "" && got.Error != "" || !strings.Contains(got.Error, tc.err) {
				t.Errorf("error %q; want one containing %q", got.Error, tc.err)
			}
			if !got.Passed && tc.err == "" && got.Detail == "" {
				t.Errorf("failed without detail: %+v", got)
			}
		})
	}
	// Off share of the bad predictions is exactly the south half.
	r := eval.CheckRules([]eval.Rule{{Name: "o", Kind: eval.RuleMaxOffShare, Tolerance: 0.3, Threshold: 5}}, badIn)[0]
	if r.Value != 50 {
		t.Errorf("off share %v; want 50", r.Value)
	}
	// A deep tree on a noisy non-monotone signal fails a monotonic rule on
	// x2, whose effect (x2-0.5)² is U-shaped.
	tr, _, _ := noisyProblem(3, 400, 1, 1, 0.1)
	tr.FeatureNames = train.FeatureNames
	tm, err := tree.Params{MaxDepth: 6}.Fit(context.Background(), tr, model.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tin := in
	tin.PartialDependence = pdpOf(t, tm, tr.X, tr.FeatureNames)
	tin.Feature = func(string) ([]float64, bool) {
		col := make([]float64, tr.X.Rows)
		for i := range col {
			col[i] = tr.X.At(i, 2)
		}
		return col, true
	}
	u := eval.CheckRules([]eval.Rule{{Name: "u", Kind: eval.RuleMonotonic, Feature: "x2", Direction: "increasing"}}, tin)[0]
	if u.Passed || u.Value < 0.1 {
		t.Errorf("U-shaped x2 passes as increasing: %+v", u)
	}
}

func TestQuantileGrid(t *testing.T) {
	g := eval.QuantileGrid([]float64{5, 1, 3, math.NaN(), 3, 2, 4}, 3)
	if len(g) != 3 || g[0] != 1 || g[1] != 3 || g[2] != 5 {
		t.Errorf("QuantileGrid = %v; want [1 3 5]", g)
	}
}
