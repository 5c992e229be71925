package explain

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/tabforge/tabforge/model"
)

// SampleRows returns min(max, n) distinct row indices of [0, n) drawn
// with the seed, in increasing order, so a sample keeps input order; max
// <= 0 or max >= n returns every row. It is how max_explain_rows caps the
// rows explained.
func SampleRows(n, max int, seed uint64) []int {
	if max <= 0 || max >= n {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	rng := rand.New(rand.NewPCG(seed, 0x6578706c61696e)) // "explain"
	out := rng.Perm(n)[:max]
	slices.Sort(out)
	return out
}

// Bounds on KMeansBackground's work.
const (
	kmeansMaxRows = 10_000
	kmeansMaxIter = 50
)

// SampleBackground returns up to n rows of x drawn without replacement
// with the seed, equally weighted.
func SampleBackground(x *model.Matrix, n int, seed uint64) *Background {
	return &Background{X: x.TakeRows(SampleRows(x.Rows, n, seed))}
}

// KMeansBackground summarises x by k weighted centres (Lloyd's algorithm
// from a seeded k-means++ start, on columns standardised by their
// standard deviation, distances over the coordinates both points have,
// so missing values neither attract nor repel). Each
// centre coordinate is then snapped to the nearest value the column takes
// among the centre's members, so ordinal codes and 0/1 indicators stay
// valid inputs, and weighted by its cluster's size, as shap.kmeans does.
// With k >= x.Rows it returns the rows themselves. At most
// kmeansMaxRows rows (drawn with the seed) are clustered, for at most
// kmeansMaxIter Lloyd iterations, bounding the cost on large data; that
// bound is still O(kmeansMaxRows·k·cols) per iteration, seconds on wide
// data, so ctx is checked between iterations and returned when done.
func KMeansBackground(ctx context.Context, x *model.Matrix, k int, seed uint64) (*Background, error) {
	if x == nil || x.Rows == 0 {
		return nil, fmt.Errorf("explain: k-means: no rows")
	}
	if k <= 0 {
		return nil, fmt.Errorf("explain: k-means: k = %d", k)
	}
	if k >= x.Rows {
		return &Background{X: x.TakeRows(SampleRows(x.Rows, 0, 0))}, nil
	}
	if x.Rows > kmeansMaxRows {
		x = x.TakeRows(SampleRows(x.Rows, kmeansMaxRows, seed))
	}
	z, mean, sd := standardize(x)
	rng := rand.New(rand.NewPCG(seed, 0x6b6d65616e73)) // "kmeans"
	centres, err := kmeansPlusPlus(ctx, z, k, rng)
	if err != nil {
		return nil, fmt.Errorf("explain: k-means: %w", err)
	}
	assign, err := lloyd(ctx, z, centres, rng)
	if err != nil {
		return nil, fmt.Errorf("explain: k-means: %w", err)
	}
	return snapCentres(x, centres, assign, mean, sd), nil
}

// standardize returns x's columns scaled to mean 0 and standard deviation
// 1 over their present values (a constant column keeps sd 1), with the
// means and sds used.
func standardize(x *model.Matrix) (z *model.Matrix, mean, sd []float64) {
	n, p := x.Rows, x.Cols
	mean, sd = make([]float64, p), make([]float64, p)
	for j := range p {
		var s, s2, c float64
		for i := range n {
			if v := x.At(i, j); !math.IsNaN(v) {
				s += v
				s2 += v * v
				c++
			}
		}
		if c > 0 {
			mean[j] = s / c
			sd[j] = math.Sqrt(math.Max(0, s2/c-mean[j]*mean[j]))
		}
		if !(sd[j] > 1e-12) {
			sd[j] = 1
		}
	}
	z = model.NewMatrix(n, p)
	for i := range n {
		for j := range p {
			z.Data[i*p+j] = (x.At(i, j) - mean[j]) / sd[j] // NaN stays NaN
		}
	}
	return z, mean, sd
}

// nanDist is the squared distance over the coordinates both a and b have:
// a missing value neither attracts nor repels.
func nanDist(a, b []float64) float64 {
	var s float64
	for j, v := range a {
		if d := v - b[j]; d == d {
			s += d * d
		}
	}
	return s
}

// kmeansPlusPlus seeds k centres among z's rows, each next one drawn with
// probability proportional to its squared distance from the nearest
// centre so far (Arthur and Vassilvitskii 2007). It checks ctx before
// each centre.
func kmeansPlusPlus(ctx context.Context, z *model.Matrix, k int, rng *rand.Rand) (*model.Matrix, error) {
	n := z.Rows
	centres := model.NewMatrix(k, z.Cols)
	d2 := make([]float64, n)
	copy(centres.Row(0), z.Row(rng.IntN(n)))
	for i := range n {
		d2[i] = nanDist(z.Row(i), centres.Row(0))
	}
	for c := 1; c < k; c++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var tot float64
		for _, d := range d2 {
			tot += d
		}
		pick := rng.IntN(n)
		if tot > 0 {
			u := rng.Float64() * tot
			for i, d := range d2 {
				u -= d
				if u <= 0 {
					pick = i
					break
				}
			}
		}
		copy(centres.Row(c), z.Row(pick))
		for i := range n {
			d2[i] = min(d2[i], nanDist(z.Row(i), centres.Row(c)))
		}
	}
	return centres, nil
}

// lloyd runs Lloyd's iterations from centres (updated in place) until no
// row changes cluster or kmeansMaxIter, and returns each row's cluster.
// It checks ctx before each iteration.
func lloyd(ctx context.Context, z, centres *model.Matrix, rng *rand.Rand) ([]int, error) {
	n, p, k := z.Rows, z.Cols, centres.Rows
	assign := make([]int, n)
	for iter := range kmeansMaxIter {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		changed := false
		for i := range n {
			best, bd := 0, math.Inf(1)
			for c := range k {
				if d := nanDist(z.Row(i), centres.Row(c)); d < bd {
					best, bd = c, d
				}
			}
			if assign[i] != best || iter == 0 {
				changed = changed || assign[i] != best
				assign[i] = best
			}
		}
		if !changed && iter > 0 {
			break
		}
		clear(centres.Data)
		counts := make([]float64, k)
		seen := make([]float64, k*p) // members with coordinate j present
		for i, c := range assign {
			counts[c]++
			row := centres.Row(c)
			for j, v := range z.Row(i) {
				if v == v {
					row[j] += v
					seen[c*p+j]++
				}
			}
		}
		for c := range k {
			if counts[c] == 0 {
				copy(centres.Row(c), z.Row(rng.IntN(n))) // revive an empty cluster
				continue
			}
			for j := range p {
				centres.Data[c*p+j] /= seen[c*p+j] // 0/0 = NaN: no member has it
			}
		}
	}
	return assign, nil
}

// snapCentres turns the standardised centres into background rows of
// values x's members take (the member value nearest the centre, or
// missing where most members miss it), weighted by cluster size; empty
// clusters are dropped.
func snapCentres(x, centres *model.Matrix, assign []int, mean, sd []float64) *Background {
	p := x.Cols
	out := &Background{X: model.NewMatrix(0, p)}
	for c := range centres.Rows {
		var members []int
		for i, a := range assign {
			if a == c {
				members = append(members, i)
			}
		}
		if len(members) == 0 {
			continue
		}
		row := make([]float64, p)
		for j := range p {
			target := centres.At(c, j)*sd[j] + mean[j]
			best, bd, nan := math.NaN(), math.Inf(1), 0
			for _, i := range members {
				v := x.At(i, j)
				if math.IsNaN(v) {
					nan++
					continue
				}
				if d := math.Abs(v - target); d < bd {
					best, bd = v, d
				}
			}
			if 2*nan > len(members) {
				best = math.NaN() // mostly missing: keep it missing
			}
			row[j] = best
		}
		out.X.Data = append(out.X.Data, row...)
		out.X.Rows++
		out.Weights = append(out.Weights, float64(len(members)))
	}
	return out
}
