package linear

import (
	"context"
	"math"
	"strings"
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

// TestWideNonFinite: a design with more columns than rows is solved in its
// dual form, and the alpha search builds its own matrices; neither reads
// the values through computeMoments, which names a bad feature. Before the
// fix a missing or infinite value reached the solve and the fit failed
// with "the wide solve gave a non-finite coefficient", naming nothing.
func TestWideNonFinite(t *testing.T) {
	wide := func(x01, y1 float64) *model.Dataset {
		x := &model.Matrix{Rows: 2, Cols: 3, Data: []float64{1, x01, 3, 4, 5, 7}}
		return &model.Dataset{X: x, Y: []float64{3, y1}, Task: model.Regression, FeatureNames: []string{"a", "b", "c"}}
	}
	tests := []struct {
		name string
		r    Regression
		d    *model.Dataset
		want string
	}{
		{"nan_ols", Regression{}, wide(math.NaN(), 4), `missing value in feature "b"`},
		{"inf_ridge", Regression{Alpha: 1}, wide(math.Inf(-1), 4), `infinite value in feature "b"`},
		{"nan_target", Regression{}, wide(2, math.NaN()), "target of row 1 is NaN"},
		{"nan_alphas", Regression{Alphas: []float64{0.1, 1}}, wide(math.NaN(), 4), `missing value in feature "b"`},
	}
	for _, tt := range tests {
		_, err := tt.r.Train(context.Background(), tt.d, model.FitOptions{Workers: 1})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Train error = %v; want one containing %q", tt.name, err, tt.want)
		}
	}
}

// TestLeastSquaresHugeFeature: a feature spread beyond 1e154 overflows
// the squares in the normal equations. OLS is invariant under scaling a
// feature, so it must fit x·1e300 exactly as it fits x (its QR never
// squares a value); ridge and the alpha search are not, and must say which
// column overflowed. Before the fix ridge and the alpha search returned a
// zero coefficient silently, predicting the mean, and the wide solve
// failed without naming the column.
func TestLeastSquaresHugeFeature(t *testing.T) {
	const s = 1e300
	tall := func() *model.Dataset {
		x := &model.Matrix{Rows: 4, Cols: 2, Data: []float64{1 * s, 1, 2 * s, 0, 3 * s, 1, 5 * s, 0}}
		return &model.Dataset{X: x, Y: []float64{1, 2, 3, 5}, Task: model.Regression, FeatureNames: []string{"big", "small"}}
	}
	d := tall()
	m, err := Regression{}.Train(context.Background(), d, model.FitOptions{Workers: 1})
	if err != nil {
		t.Fatalf("ols: %v", err)
	}
	got := make([]float64, 4)
	if err := m.Predict(got, d.X); err != nil {
		t.Fatal(err)
	}
	for i := range d.X.Data {
		if i%2 == 0 {
			d.X.Data[i] /= s
		}
	}
	ref, err := Regression{}.Train(context.Background(), d, model.FitOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, 4)
	if err := ref.Predict(want, d.X); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if !scalar.EqualWithinAbsOrRel(got[i], want[i], 1e-9, 1e-9) {
			t.Errorf("ols on big·1e300: row %d predicts %v; want %v as on big", i, got[i], want[i])
		}
	}
	wide := &model.Dataset{X: &model.Matrix{Rows: 2, Cols: 3, Data: []float64{1 * s, 1, 2, 2 * s, 0, 5}},
		Y: []float64{1, 2}, Task: model.Regression, FeatureNames: []string{"big", "a", "b"}}
	for _, c := range []struct {
		name string
		r    Regression
		d    *model.Dataset
	}{
		{"ridge", Regression{Alpha: 1}, tall()},
		{"alphas", Regression{Alphas: []float64{0.1, 1}}, tall()},
		{"wide_ols", Regression{}, wide},
		{"wide_ridge", Regression{Alpha: 1}, wide},
	} {
		_, err := c.r.Train(context.Background(), c.d, model.FitOptions{Workers: 1})
		if want := `feature "big" spreads beyond about 1e154`; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: Train error = %v; want one containing %q", c.name, err, want)
		}
	}
}

// TestOLSTinyFeature fits OLS to x·s for s down to 1e-300, where the
// squared deviations underflow to zero, and expects the fit of x: slope
// 9/14 per unit of x and intercept 1/2 (x = 1, 2, 4 and y = 1, 2, 3 give
// Σ(x−x̄)(y−ȳ) = 3 and Σ(x−x̄)² = 14/3). Before the fix the normal
// equations saw a column of zeros, called it constant and predicted the
// mean, 2, for every row; scikit-learn's LinearRegression fits it.
func TestOLSTinyFeature(t *testing.T) {
	for _, s := range []float64{1, 1e-170, 1e-300} {
		x := &model.Matrix{Rows: 3, Cols: 1, Data: []float64{1 * s, 2 * s, 4 * s}}
		d := &model.Dataset{X: x, Y: []float64{1, 2, 3}, Task: model.Regression}
		m, err := Regression{}.Train(context.Background(), d, model.FitOptions{Workers: 1})
		if err != nil {
			t.Fatalf("scale %g: %v", s, err)
		}
		got := make([]float64, 3)
		if err := m.Predict(got, x); err != nil {
			t.Fatal(err)
		}
		for i, v := range []float64{1, 2, 4} {
			if want := 0.5 + 9.0/14*v; !scalar.EqualWithinAbsOrRel(got[i], want, 1e-9, 1e-9) {
				t.Errorf("scale %g: row %d predicts %v; want %v", s, i, got[i], want)
			}
		}
	}
}
