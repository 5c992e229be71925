package linear

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/model"
)

// TestChooseAlphaIsLeaveOneOut checks the closed-form leave-one-out error
// behind Alphas against refitting without each row, on a tall and on a
// wide design: both must pick the same alpha.
func TestChooseAlphaIsLeaveOneOut(t *testing.T) {
	alphas := []float64{0.01, 0.1, 1, 10, 100, 1000}
	// 600 rows take chooseAlphaTall through three blocks of rows.
	for _, shape := range []struct{ n, p int }{{40, 6}, {600, 8}, {20, 40}} {
		d := wideData(shape.n, shape.p, false, 7)
		got, err := chooseAlpha(context.Background(), d, alphas, true)
		if err != nil {
			t.Fatal(err)
		}
		best, bestErr := 0.0, math.Inf(1)
		for _, a := range alphas {
			sse := 0.0
			for i := range shape.n {
				keep := slices.Delete(seqRows(shape.n), i, i+1)
				m, err := Regression{Alpha: a}.Train(context.Background(), d.TakeRows(keep), model.FitOptions{})
				if err != nil {
					t.Fatal(err)
				}
				pred := make([]float64, 1)
				if err := m.Predict(pred, d.TakeRows([]int{i}).X); err != nil {
					t.Fatal(err)
				}
				sse += (pred[0] - d.Y[i]) * (pred[0] - d.Y[i])
			}
			if sse < bestErr {
				best, bestErr = a, sse
			}
		}
		if got != best {
			t.Errorf("%d×%d: closed form picks alpha %v, refitting picks %v", shape.n, shape.p, got, best)
		}
		m, err := Regression{Alphas: alphas}.Train(context.Background(), d, model.FitOptions{})
		if err != nil || m.params.Alpha != got {
			t.Errorf("%d×%d: the model records alpha %v (%v); want %v", shape.n, shape.p, m.params.Alpha, err, got)
		}
	}
}

func seqRows(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// BenchmarkChooseAlpha times the alpha search on a tall design and
// reports its allocations, which chooseAlphaTall keeps to a few blocks of
// rows where the search used to copy X and hold its n×p scores.
func BenchmarkChooseAlpha(b *testing.B) {
	d := wideData(20000, 200, false, 3)
	alphas := []float64{0.1, 1, 10, 100}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := chooseAlpha(context.Background(), d, alphas, true); err != nil {
			b.Fatal(err)
		}
	}
}
