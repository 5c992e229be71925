package eval

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tabforge/tabforge/split"
)

// BenchmarkROCAUC measures binary ROCAUC on seeded random scores with
// ties (3 decimals), unweighted and weighted.
func BenchmarkROCAUC(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		rng := rand.New(rand.NewPCG(1, 2))
		y := make([]int, n)
		score := make([]float64, n)
		w := make([]float64, n)
		for i := range n {
			y[i] = rng.IntN(2)
			score[i] = float64(int(1000*(0.3*float64(y[i])+0.7*rng.Float64()))) / 1000
			w[i] = rng.Float64()
		}
		for _, weighted := range []bool{false, true} {
			var ww []float64
			if weighted {
				ww = w
			}
			b.Run(fmt.Sprintf("rows=%d/weighted=%v", n, weighted), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := ROCAUC(y, score, 2, ww); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkCrossValidate measures the fold scheduler: 64 folds whose fit
// does a fixed amount of arithmetic, on 1 and 2 workers, so the cost per
// fold beyond the fit is visible.
func BenchmarkCrossValidate(b *testing.B) {
	folds := make([]split.Fold, 64)
	fit := func(_ context.Context, i int, _ split.Fold) (Metrics, error) {
		s := 0.0
		for j := range 20_000 {
			s += float64(i^j) * 1e-9
		}
		return Metrics{"s": s}, nil
	}
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprint("workers=", workers), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := CrossValidate(context.Background(), folds, workers, fit); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
