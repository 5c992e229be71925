package forest

import (
	"bytes"
	"context"
	"testing"

	"github.com/tabforge/tabforge/model"
)

// TestMostlyZeroWeights fits a forest where only 2 of 20 rows have a
// positive weight, so many bootstrap samples (0.9²⁰ ≈ 12% of them) hold
// zero-weight rows only. Before the fix such a tree failed the whole fit
// ("no row has a positive weight"). Every tree must learn from the two
// weighted rows alone, so each prediction is a mean of their targets, 18
// and 19; and the redraw must not depend on the worker count.
func TestMostlyZeroWeights(t *testing.T) {
	const n = 20
	x := model.NewMatrix(n, 1)
	y := make([]float64, n)
	w := make([]float64, n)
	for i := range n {
		x.Data[i], y[i] = float64(i), float64(i)
	}
	w[18], w[19] = 1, 1
	d := &model.Dataset{X: x, Y: y, Weights: w, Task: model.Regression}
	var enc [][]byte
	for _, workers := range []int{1, 3} {
		m, err := Train(context.Background(), Params{NEstimators: 50, Seed: 4}, d, model.FitOptions{Workers: workers})
		if err != nil {
			t.Fatalf("workers %d: %v", workers, err)
		}
		for i, v := range predict(t, m, x) {
			if !(v >= 18 && v <= 19) {
				t.Errorf("workers %d: row %d predicts %v; want a value in [18, 19]", workers, i, v)
			}
		}
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		enc = append(enc, b)
	}
	if !bytes.Equal(enc[0], enc[1]) {
		t.Error("the forest differs between 1 and 3 workers")
	}
}
