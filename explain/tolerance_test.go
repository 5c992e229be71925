package explain

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/linear"
)

// collinear returns n rows whose first five columns sum to 100 within
// 1e-7, as ggplot2's midwest's race percentages do once rounded, and a
// sixth independent column; y is positive (a log(1+y) fit takes it).
func collinear(n int, seed uint64) *model.Dataset {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := model.NewMatrix(n, 6)
	y := make([]float64, n)
	for i := range n {
		row := x.Row(i)
		s := 0.0
		for j := range 4 {
			row[j] = 25 * rng.Float64()
			s += row[j]
		}
		row[4] = 100 - s + 1e-7*(rng.Float64()-0.5)
		row[5] = rng.NormFloat64()
		y[i] = 20 + 0.3*row[0] - 0.2*row[4] + row[5] + rng.NormFloat64()
	}
	return &model.Dataset{X: x, Y: y, Task: model.Regression}
}

// TestLinearToleranceCollinear checks that exact values of an OLS model
// on nearly collinear columns (coefficients near 1e6 that cancel) add up
// to its prediction within the tolerance they state, with linear SHAP
// and with interventional SHAP, on y's scale and through a log(1+y)
// link: a fixed 1e-12 (1e-9) failed them by four orders of magnitude
// and sent ensembles with such a member to KernelSHAP. A well-conditioned
// model keeps the fixed tolerance.
func TestLinearToleranceCollinear(t *testing.T) {
	d := collinear(300, 3)
	ols, err := linear.Regression{}.Train(context.Background(), d, model.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	logFit, err := (&model.LogTargetLearner{Inner: linear.Regression{}}).Fit(context.Background(), d, model.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x, bg := head(d.X, 40), &model.Matrix{Rows: 50, Cols: d.X.Cols, Data: d.X.Data[100*d.X.Cols : 150*d.X.Cols]}
	for _, tc := range []struct {
		name    string
		m       model.Model
		explain func(model.Model) (*Values, error)
	}{
		{"linear", ols, func(m model.Model) (*Values, error) { return LinearSHAP(m, x, nil) }},
		{"interventional", ols, func(m model.Model) (*Values, error) {
			return InterventionalSHAP(context.Background(), m, x, bg, InterventionalOptions{Workers: 1}, nil)
		}},
		{"interventional log(1+y)", logFit, func(m model.Model) (*Values, error) {
			return InterventionalSHAP(context.Background(), m, x, bg, InterventionalOptions{Workers: 1}, nil)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := tc.explain(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.CheckLocalAccuracy(predict(t, tc.m, x), v.Tolerance); err != nil {
				t.Fatalf("stated tolerance %g: %v", v.Tolerance, err)
			}
		})
	}
	reg := synth(model.Regression, 300, 5, 21, false)
	v, err := LinearSHAP(fitRidge(t, reg), head(reg.X, 20), nil)
	if err != nil {
		t.Fatal(err)
	}
	if v.Tolerance != 1e-12 {
		t.Errorf("ridge on independent columns: tolerance %g; want 1e-12", v.Tolerance)
	}
}
