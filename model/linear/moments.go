package linear

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/tabforge/tabforge/model"
)

const (
	// momentBlock is the number of rows centred and multiplied together; a
	// block of a few dozen columns stays in L2 cache.
	momentBlock = 512
	// momentChunk is the unit of parallel work; it must be a multiple of
	// momentBlock so that blocks do not depend on the worker count.
	momentChunk = 32 * momentBlock
	// momentStride is the column stride of the block scratch; padding it
	// past a power of two keeps the columns in different cache sets.
	momentStride = momentBlock + 8
)

// moments are weighted statistics of the augmented matrix Z = [X | y]: the
// weight sum, the column means and the centred cross-product matrix
// M = Σᵢ wᵢ (zᵢ − μ)(zᵢ − μ)ᵀ. The last row and column belong to y.
type moments struct {
	q    int       // columns of Z: features + 1
	sw   float64   // Σ wᵢ
	mean []float64 // len q
	m    []float64 // q×q row-major, lower triangle (full after symmetrize)
}

func newMoments(q int) *moments {
	return &moments{q: q, mean: make([]float64, q), m: make([]float64, q*q)}
}

// merge folds b into a with the pairwise update of Chan, Golub and LeVeque:
// M = Ma + Mb + (Sa·Sb/S)·δδᵀ with δ = μb − μa. Only lower triangles are
// touched.
func (a *moments) merge(b *moments, delta []float64) {
	if b.sw == 0 {
		return
	}
	if a.sw == 0 {
		a.sw = b.sw
		copy(a.mean, b.mean)
		copy(a.m, b.m)
		return
	}
	s := a.sw + b.sw
	f := a.sw * b.sw / s
	for j := range a.q {
		delta[j] = b.mean[j] - a.mean[j]
	}
	for j := range a.q {
		row := a.m[j*a.q : j*a.q+j+1]
		brow := b.m[j*a.q : j*a.q+j+1]
		dj := f * delta[j]
		for k := range row {
			row[k] += brow[k] + dj*delta[k]
		}
	}
	r := b.sw / s
	for j := range a.q {
		a.mean[j] += r * delta[j]
	}
	a.sw = s
}

// symmetrize copies the lower triangle of m to the upper one.
func (a *moments) symmetrize() {
	for j := range a.q {
		for k := range j {
			a.m[k*a.q+j] = a.m[j*a.q+k]
		}
	}
}

// overflowed returns the first column of Z whose mean or sum of squared
// deviations is not finite (its spread is beyond about 1e154, so its
// squares exceed float64), or -1 if there is none.
func (a *moments) overflowed() int {
	for j := range a.q {
		if v := a.mean[j] + a.m[j*a.q+j]; v-v != 0 {
			return j
		}
	}
	return -1
}

// overflowError describes column j of Z = [X | y] (p features) whose
// squares overflow float64.
func overflowError(names []string, j, p int) error {
	return fmt.Errorf("%s spreads beyond about 1e154, so its squares overflow float64; rescale it", featureOrTarget(names, j, p))
}

// columnOverflow returns the first column of x (or p for y) whose sum of
// squares is not finite, or -1. x and y are the centred, √w-scaled
// design and target of the wide and alpha-search solves.
func columnOverflow(x *mat.Dense, y []float64) int {
	n, p := x.Dims()
	for j := range p {
		s := 0.0
		for i := range n {
			v := x.At(i, j)
			s += v * v
		}
		if s-s != 0 {
			return j
		}
	}
	if s := floats.Dot(y, y); s-s != 0 {
		return p
	}
	return -1
}

// at returns M[j][k] (after symmetrize).
func (a *moments) at(j, k int) float64 { return a.m[j*a.q+k] }

// computeMoments accumulates the moments of [X | y] with weights w (nil
// means ones) in fixed blocks, merged in block order, so the result is
// independent of workers. Non-finite values in X or y are errors.
func computeMoments(ctx context.Context, x *model.Matrix, y, w []float64, names []string, workers int) (*moments, error) {
	p := x.Cols
	q := p + 1
	n := x.Rows
	chunk := chunkRows(n, momentChunk, q)
	parts := make([]*moments, numChunks(n, chunk))
	err := forChunks(ctx, n, chunk, workers, func(c, lo, hi int) error {
		acc := newMoments(q)
		blk := newMoments(q)
		buf := make([]float64, q*momentStride)
		sq := make([]float64, momentBlock)
		delta := make([]float64, q)
		for b0 := lo; b0 < hi; b0 += momentBlock {
			b1 := min(b0+momentBlock, hi)
			if err := blockMoments(blk, buf, sq, x, y, w, names, b0, b1); err != nil {
				return err
			}
			acc.merge(blk, delta)
		}
		parts[c] = acc
		return nil
	})
	if err != nil {
		return nil, err
	}
	total := newMoments(q)
	delta := make([]float64, q)
	for _, part := range parts {
		total.merge(part, delta)
	}
	total.symmetrize()
	return total, nil
}

// blockMoments computes the moments of rows [b0, b1) into blk, using buf as
// a column-major scratch of the centred, √w-scaled block.
func blockMoments(blk *moments, buf, sq []float64, x *model.Matrix, y, w []float64, names []string, b0, b1 int) error {
	p, q, nb := x.Cols, blk.q, b1-b0
	sum := blk.mean // weighted column sums until divided below
	clear(sum)
	sw := 0.0
	for r := range nb {
		i := b0 + r
		wi := 1.0
		if w != nil {
			wi = w[i]
			sq[r] = math.Sqrt(wi)
		}
		sw += wi
		row := x.Data[i*p : (i+1)*p]
		for j, v := range row {
			buf[j*momentStride+r] = v
			sum[j] += wi * v
		}
		buf[p*momentStride+r] = y[i]
		sum[p] += wi * y[i]
	}
	// A NaN or infinity anywhere in the block shows in its column sum, so
	// the values themselves are only scanned when a sum is not finite.
	for j, s := range sum {
		if s-s != 0 {
			if err := blockBadValue(buf[j*momentStride:j*momentStride+nb], j, p, b0, names); err != nil {
				return err
			}
			return fmt.Errorf("linear: values of %s overflow; rescale the input", featureOrTarget(names, j, p))
		}
	}
	blk.sw = sw
	clear(blk.m)
	if sw == 0 {
		return nil
	}
	for j := range sum {
		mu := sum[j] / sw
		sum[j] = mu
		col := buf[j*momentStride : j*momentStride+nb]
		if w == nil {
			for r := range col {
				col[r] -= mu
			}
		} else {
			for r := range col {
				col[r] = sq[r] * (col[r] - mu)
			}
		}
	}
	for j := range q {
		cj := buf[j*momentStride : j*momentStride+nb]
		row := blk.m[j*q : j*q+j+1]
		for k := range row {
			row[k] = floats.Dot(cj, buf[k*momentStride:k*momentStride+nb])
		}
	}
	return nil
}

// blockBadValue returns the error for the first non-finite value in col,
// column j of the block starting at row b0 (j == p is the target).
func blockBadValue(col []float64, j, p, b0 int, names []string) error {
	for r, v := range col {
		if v-v != 0 {
			if j == p {
				return badTargetError(b0+r, v)
			}
			return badValueError(names, j, v)
		}
	}
	return nil
}

// featureOrTarget names column j of [X | y].
func featureOrTarget(names []string, j, p int) string {
	if j == p {
		return "the target"
	}
	return fmt.Sprintf("feature %q", featureName(names, j))
}
