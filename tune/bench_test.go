package tune

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkOptimize runs 200 random-sampler trials of a cheap objective
// on 1 and 4 workers, so the scheduling cost per trial is visible.
func BenchmarkOptimize(b *testing.B) {
	ctx := context.Background()
	for _, workers := range []int{1, 4} {
		b.Run(fmt.Sprint("workers=", workers), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s, err := NewStudy(ctx, "bench", Config{Sampler: RandomSampler{}, Seed: 1})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.Optimize(ctx, quadratic, Budget{MaxTrials: 200, Workers: workers}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
