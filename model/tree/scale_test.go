package tree

import (
	"context"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"

	"github.com/tabforge/tabforge/model"
)

// TestTargetScaleEquivariant: a regression tree fitted to y·s predicts s
// times what the tree fitted to y predicts, up to rounding, for every s up
// to the largest target Prepare accepts (maxTarget); beyond it the squared
// errors overflow and Prepare refuses (TestTrainBadInput, "huge target").
// Small targets used to stop at the root: every variance of y·1e-9 is
// below scikit-learn's absolute purity level 2.2e-16 (see pureLevel).
func TestTargetScaleEquivariant(t *testing.T) {
	y := []float64{1, -1, 3, 2, 5, -4, 0, 1}
	x := &model.Matrix{Rows: 8, Cols: 1, Data: []float64{0, 1, 2, 3, 4, 5, 6, 7}}
	fit := func(s float64) []float64 {
		ys := make([]float64, len(y))
		for i, v := range y {
			ys[i] = v * s
		}
		d := &model.Dataset{X: x, Y: ys, Task: model.Regression}
		m, err := Train(context.Background(), Params{MaxDepth: 2}, d, model.FitOptions{Workers: 1})
		if err != nil {
			t.Fatalf("scale %g: %v", s, err)
		}
		out := make([]float64, x.Rows)
		if err := m.Predict(out, x); err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := fit(1)
	for _, s := range []float64{1e-150, 1e-9, 1e100, maxTarget / 5} {
		for i, v := range fit(s) {
			if !scalar.EqualWithinAbsOrRel(v/s, want[i], 1e-12, 1e-12) {
				t.Errorf("scale %g: row %d predicts %v; want %v·%g", s, i, v, want[i], s)
			}
		}
	}
}
