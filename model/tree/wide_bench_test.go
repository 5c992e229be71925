package tree

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tabforge/tabforge/model"
)

// wideSparse is a grants-like table: n rows of p mostly-zero counts, the
// label driven by two continuous columns.
func wideSparse(n, p int, seed uint64) *model.Dataset {
	rng := rand.New(rand.NewPCG(seed, 7))
	x := model.NewMatrix(n, p)
	y := make([]float64, n)
	for i := range n {
		r := x.Row(i)
		for j := range r {
			if rng.Float64() < 0.05 {
				r[j] = float64(1 + rng.IntN(4))
			}
		}
		r[0], r[1] = rng.Float64()*100, rng.Float64()*100
		y[i] = b2f(r[0]+20*r[1]/100+rng.NormFloat64()*10 > 55)
	}
	return &model.Dataset{X: x, Y: y, Task: model.Binary, NumClasses: 2}
}

// BenchmarkGrowSearch grows one classification tree with the presorted
// and with the sorting search, on dense and sparse tables of a few widths,
// with √p and with every feature per split (see presortPays).
func BenchmarkGrowSearch(b *testing.B) {
	for _, cols := range []int{40, 150, 1500} {
		for _, kind := range []string{"dense", "sparse"} {
			d := synthetic(20_000, cols, model.Binary, 1)
			if kind == "sparse" {
				d = wideSparse(20_000, cols, 1)
			}
			pr, err := Prepare(context.Background(), d, 1)
			if err != nil {
				b.Fatal(err)
			}
			for _, rule := range []FeatureRule{SqrtFeatures, AllFeatures} {
				p := Params{MaxFeatures: MaxFeatures{Rule: rule}, MaxDepth: 12}
				m, _ := p.MaxFeatures.Resolve(cols)
				for _, s := range []search{searchPresort, searchSort} {
					b.Run(fmt.Sprintf("p=%d/%s/m=%d/presort=%v", cols, kind, m, s == searchPresort), func(b *testing.B) {
						for b.Loop() {
							if _, err := pr.grow(context.Background(), p, nil, rand.New(rand.NewPCG(1, 2)), s); err != nil {
								b.Fatal(err)
							}
						}
					})
				}
			}
		}
	}
}
