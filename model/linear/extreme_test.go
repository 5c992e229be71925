package linear

import (
	"context"
	"testing"
	"time"

	"gonum.org/v1/gonum/floats/scalar"

	"github.com/tabforge/tabforge/model"
)

// TestLogisticHugeFeature fits unpenalised logistic regression to a
// feature and to the same feature times 1e155..1e300, whose squares
// overflow float64. Without a penalty the fit is invariant under scaling
// a feature, so the probabilities must agree and the coefficient must
// shrink by the factor. Before the fix the overflowed variance standardised
// the column by 1 instead of its spread and the objective overflowed to
// NaN: the fit failed, and before lbfgs stopped on NaN it never ended (the
// guard context only turns such a hang into a failure).
func TestLogisticHugeFeature(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	base := []float64{1, 2, 3, 4, 5, 6}
	y := []float64{0, 1, 0, 1, 1, 1}
	fit := func(s float64) (*Model, []float64) {
		x := model.NewMatrix(len(base), 1)
		for i, v := range base {
			x.Data[i] = v * s
		}
		d := &model.Dataset{X: x, Y: y, Task: model.Binary, NumClasses: 2}
		m, err := Logistic{Tol: 1e-10}.Train(ctx, d, model.FitOptions{Workers: 1})
		if err != nil {
			t.Fatalf("scale %g: %v", s, err)
		}
		p := make([]float64, x.Rows)
		if err := m.Predict(p, x); err != nil {
			t.Fatalf("scale %g: predict: %v", s, err)
		}
		return m, p
	}
	ref, want := fit(1)
	for _, s := range []float64{1e155, 1e200, 1e300} {
		m, got := fit(s)
		for i := range got {
			if !scalar.EqualWithinAbsOrRel(got[i], want[i], 1e-8, 1e-8) {
				t.Errorf("scale %g: P(row %d) = %v; want %v as at scale 1", s, i, got[i], want[i])
			}
		}
		if c, wc := m.Coef()[0]*s, ref.Coef()[0]; !scalar.EqualWithinRel(c, wc, 1e-6) {
			t.Errorf("scale %g: coefficient × scale = %v; want %v", s, c, wc)
		}
	}
}
