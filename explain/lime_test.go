package explain

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/gbdt"
)

// knownLinear is f(x) = 7 + 3·x0 − 2·x1 + 0.5·x2 + 0·x3 + 4·x4, where x4
// is a 0/1 indicator.
var knownCoef = []float64{3, -2, 0.5, 0, 4}

func knownLinear(dst []float64, x *model.Matrix) error {
	for r := range x.Rows {
		dst[r] = 7 + dot(knownCoef, x.Row(r))
	}
	return nil
}

func knownData(n int, seed uint64) *model.Matrix {
	rng := rand.New(rand.NewPCG(seed, 3))
	x := model.NewMatrix(n, len(knownCoef))
	for r := range n {
		row := x.Row(r)
		row[0] = 10 * rng.Float64()
		row[1] = rng.NormFloat64()
		row[2] = 100 + 20*rng.Float64()
		row[3] = rng.Float64()
		if rng.Float64() < 0.3 {
			row[4] = 1
		}
	}
	return x
}

// TestLIMERecoversLinearCoefficients explains a known linear function:
// without a penalty the surrogate recovers its coefficients (in original
// units; the 0/1 column's effect is ±4 depending on the row's value) to
// rounding, with the default ridge penalty to 1%, and TopK keeps the
// right features.
func TestLIMERecoversLinearCoefficients(t *testing.T) {
	train := knownData(500, 1)
	x := head(train, 4)
	for _, tc := range []struct {
		name  string
		alpha float64
		tol   float64 // relative to the coefficient's size
	}{{"unpenalised", -1, 1e-9}, {"ridge", 0, 1e-2}} {
		t.Run(tc.name, func(t *testing.T) {
			ex, err := LIME(context.Background(), knownLinear, 1, x, train, LIMEOptions{Alpha: tc.alpha, Seed: 3}, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, res := range ex.Results {
				for j, want := range knownCoef {
					if j == 4 && x.At(res.Row, 4) == 0 {
						want = -want // indicator coded as "equals the row's value (0)"
					}
					if got := res.Coef[j]; math.Abs(got-want) > tc.tol*math.Max(1, math.Abs(want)) {
						t.Fatalf("row %d: coefficient %d = %v; want %v", res.Row, j, got, want)
					}
				}
				if res.Score < 1-tc.tol || math.Abs(res.Local-res.Prediction) > tc.tol*math.Abs(res.Prediction) {
					t.Fatalf("row %d: score %v, local %v vs prediction %v", res.Row, res.Score, res.Local, res.Prediction)
				}
			}
		})
	}
	ex, err := LIME(context.Background(), knownLinear, 1, x, train, LIMEOptions{TopK: 2, Seed: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Standardised effects: x0 3·2.9, x1 2·1, x2 0.5·5.8, x4 4 (indicator):
	// the two largest are x0 and x4.
	for _, res := range ex.Results {
		if len(res.Selected) != 2 || res.Selected[0] != 0 || res.Selected[1] != 4 {
			t.Fatalf("row %d: TopK 2 selected %v; want [0 4]", res.Row, res.Selected)
		}
		if res.Coef[1] != 0 || res.Coef[2] != 0 || res.Coef[3] != 0 {
			t.Fatalf("row %d: unselected features have coefficients %v", res.Row, res.Coef)
		}
	}
}

func TestLIMEDeterministicAndChecked(t *testing.T) {
	d := synth(model.Binary, 300, 5, 81, false)
	m := fitGBDT(t, d, gbdt.Params{NEstimators: 10})
	x := head(d.X, 3)
	a, err := LIME(context.Background(), m.Predict, 1, x, d.X, LIMEOptions{Samples: 500, Seed: 1, Workers: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LIME(context.Background(), m.Predict, 1, x, d.X, LIMEOptions{Samples: 500, Seed: 1, Workers: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Results {
		if maxAbsDiff(a.Results[i].Coef, b.Results[i].Coef) != 0 {
			t.Fatal("LIME depends on the worker count")
		}
	}
	if _, err := LIME(context.Background(), m.Predict, 1, x, model.NewMatrix(3, 4), LIMEOptions{}, nil); err == nil {
		t.Error("LIME with training statistics of another width: no error")
	}
	if _, err := LIME(context.Background(), m.Predict, 1, x, d.X, LIMEOptions{Output: 1}, nil); err == nil {
		t.Error("LIME of output 1 of a 1-output model: no error")
	}
}

// TestPartialDependence checks PD and ICE against their definitions on a
// known function, where the PD of x0 is 7 + 3·g + mean of the rest.
func TestPartialDependence(t *testing.T) {
	x := knownData(200, 2)
	pd, err := PartialDependence(context.Background(), knownLinear, 1, x, 0, PDOptions{GridSize: 10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(pd.Grid) != 10 || len(pd.ICE) != 200*10 || pd.Name != "f0" {
		t.Fatalf("grid %d points, ICE %d values, name %q", len(pd.Grid), len(pd.ICE), pd.Name)
	}
	rest := 0.0
	for r := range x.Rows {
		rest += dot(knownCoef[1:], x.Row(r)[1:]) / float64(x.Rows)
	}
	for g, gv := range pd.Grid {
		if want := 7 + 3*gv + rest; math.Abs(pd.Average[g]-want) > 1e-9 {
			t.Fatalf("PD at %v = %v; want %v", gv, pd.Average[g], want)
		}
		for r := range x.Rows {
			if want := 7 + 3*gv + dot(knownCoef[1:], x.Row(r)[1:]); math.Abs(pd.ICE[r*10+g]-want) > 1e-9 {
				t.Fatalf("ICE row %d at %v = %v; want %v", r, gv, pd.ICE[r*10+g], want)
			}
		}
	}
	// The 0/1 column's grid is its two values.
	pd4, err := PartialDependence(context.Background(), knownLinear, 1, x, 4, PDOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(pd4.Grid) != 2 || math.Abs(pd4.Average[1]-pd4.Average[0]-4) > 1e-12 {
		t.Fatalf("indicator PD grid %v average %v", pd4.Grid, pd4.Average)
	}
	pd2, err := PartialDependence2D(context.Background(), knownLinear, 1, x, 0, 4, PDOptions{GridSize: 5}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(pd2.Average) != 5*2 || len(pd2.ICE) != 200*10 {
		t.Fatalf("2-D PD: %d averages, %d ICE values", len(pd2.Average), len(pd2.ICE))
	}
	for a, av := range pd2.Grids[0] {
		for b, bv := range pd2.Grids[1] {
			if want := 7 + 3*av + 4*bv + rest - 4*meanCol(x, 4); math.Abs(pd2.Average[a*2+b]-want) > 1e-9 {
				t.Fatalf("2-D PD at (%v, %v) = %v; want %v", av, bv, pd2.Average[a*2+b], want)
			}
		}
	}
	for _, bad := range [][2]int{{0, 0}, {0, 9}, {-1, 2}} {
		if _, err := PartialDependence2D(context.Background(), knownLinear, 1, x, bad[0], bad[1], PDOptions{}, nil); err == nil {
			t.Errorf("2-D PD of features %v: no error", bad)
		}
	}
}

func meanCol(x *model.Matrix, j int) float64 {
	s := 0.0
	for r := range x.Rows {
		s += x.At(r, j)
	}
	return s / float64(x.Rows)
}

// TestPermutationImportance: for f(x) = Σ c_j x_j scored by negative
// MSE, shuffling column j raises the MSE by about 2·c_j²·Var(x_j); the
// zero-coefficient feature has importance exactly 0.
func TestPermutationImportance(t *testing.T) {
	x := knownData(2000, 4)
	y := make([]float64, x.Rows)
	if err := knownLinear(y, x); err != nil {
		t.Fatal(err)
	}
	negMSE := func(y, pred []float64) (float64, error) {
		s := 0.0
		for i := range y {
			s += (y[i] - pred[i]) * (y[i] - pred[i])
		}
		return -s / float64(len(y)), nil
	}
	imp, err := PermutationImportance(context.Background(), knownLinear, 1, x, y, negMSE, PermutationOptions{Repeats: 8, Seed: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if imp.Baseline != 0 || imp.Mean[3] != 0 {
		t.Fatalf("baseline %v, importance of the unused feature %v; want 0 and 0", imp.Baseline, imp.Mean[3])
	}
	for j, c := range knownCoef {
		if c == 0 {
			continue
		}
		want := 2 * c * c * variance(x, j)
		if math.Abs(imp.Mean[j]-want) > 0.15*want {
			t.Errorf("feature %d: importance %v; want about %v", j, imp.Mean[j], want)
		}
	}
	// R² through ScorerFor gives the same ranking.
	imp2, err := PermutationImportance(context.Background(), knownLinear, 1, x, y, ScorerFor(model.Regression, 0), PermutationOptions{Seed: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !(imp2.Mean[0] > imp2.Mean[2] && imp2.Mean[2] > imp2.Mean[3]) {
		t.Errorf("R² importances %v not ordered like the coefficients' effects", imp2.Mean)
	}
	if _, err := PermutationImportance(context.Background(), knownLinear, 1, x, y[:10], negMSE, PermutationOptions{}, nil); err == nil {
		t.Error("permutation importance with 10 targets for 2000 rows: no error")
	}
}

func variance(x *model.Matrix, j int) float64 {
	m := meanCol(x, j)
	s := 0.0
	for r := range x.Rows {
		s += (x.At(r, j) - m) * (x.At(r, j) - m)
	}
	return s / float64(x.Rows)
}

// TestWeightedR2Scale: the surrogate's score does not depend on the
// outputs' scale; near the float range the squared errors overflowed and
// the score read NaN.
func TestWeightedR2Scale(t *testing.T) {
	y := []float64{1, 2, 3, 5}
	w := []float64{1, 0.5, 2, 1}
	fit := []float64{1.2, 1.8, 3.3, 4.6}
	want := weightedR2(y, w, func(i int) float64 { return fit[i] })
	for _, s := range []float64{1e300, -1e300, 1e-300} {
		ys, fs := make([]float64, len(y)), make([]float64, len(y))
		for i := range y {
			ys[i], fs[i] = y[i]*s, fit[i]*s
		}
		if got := weightedR2(ys, w, func(i int) float64 { return fs[i] }); math.Abs(got-want) > 1e-9 {
			t.Errorf("scale %g: R² %v; want %v", s, got, want)
		}
	}
}
