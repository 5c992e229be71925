package features

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tabforge/tabforge/frame"
)

// benchFrame returns rows × 30 columns: 20 numeric (10% missing), 2
// datetime, 8 categorical with 20 levels (5% missing), seeded.
func benchFrame(rows int) *frame.Frame {
	r := rand.New(rand.NewPCG(7, uint64(rows)))
	var cols []*frame.Column
	for j := range 20 {
		v := make([]float64, rows)
		for i := range v {
			if v[i] = r.NormFloat64(); r.IntN(10) == 0 {
				v[i] = math.NaN()
			}
		}
		cols = append(cols, frame.NewNumeric(fmt.Sprint("n", j), v))
	}
	for j := range 2 {
		v := make([]float64, rows)
		for i := range v {
			v[i] = 1.6e9 + float64(r.IntN(1e8))
		}
		cols = append(cols, frame.NewDatetime(fmt.Sprint("d", j), v))
	}
	levels := make([]string, 20)
	for k := range levels {
		levels[k] = fmt.Sprint("level", k)
	}
	for j := range 8 {
		codes := make([]int32, rows)
		for i := range codes {
			if codes[i] = int32(r.IntN(len(levels))); r.IntN(20) == 0 {
				codes[i] = -1
			}
		}
		cols = append(cols, frame.NewCategorical(fmt.Sprint("c", j), codes, levels))
	}
	return frame.MustNew(cols...)
}

func BenchmarkDesignMatrix(b *testing.B) {
	for _, rows := range []int{1_000, 100_000} {
		f := benchFrame(rows)
		for _, spec := range []struct {
			name string
			spec DesignSpec
		}{{"ordinal", DesignSpec{}}, {"onehot-scaled", DesignSpec{OneHot: true, Scale: true}}} {
			d, err := FitDesign(context.Background(), f, spec.spec)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("rows=%d/%s", rows, spec.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := d.Matrix(f); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
