package explain

import (
	"context"
	"fmt"
	"math"

	"github.com/tabforge/tabforge/model"
)

// kernelBatch bounds the synthetic rows predicted in one call.
const kernelBatch = 1 << 14

// evaluate returns v(S) for each coalition, outputs values each: the
// background-weighted mean of f on background rows with the coalition's
// features set to x's.
//
// A background row often agrees with x on several features (the common
// level of a categorical column, a 0 amount), and two coalitions that
// differ only there give that row the same synthetic row; when a
// coalition takes most features from x, background rows that agree on
// the rest give the same row too. Each distinct synthetic row is
// predicted once (see plan): on data with shared values that removes
// most of the model's work, and since f's output for a row depends on
// that row alone and the means are summed in the same order, the values
// are the same bit for bit.
func (k *kernelRow) evaluate(ctx context.Context, vary []int, coals []coalition) ([]float64, error) {
	nb := k.bg.X.Rows
	plan := k.plan(vary, coals)
	pred, err := k.predictDistinct(ctx, vary, coals, plan.first)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(coals)*k.outputs)
	for c := range coals {
		for r := range nb {
			w := k.bg.weight(r) / k.wsum
			u := int(plan.row[c*nb+r])
			for o := range k.outputs {
				out[c*k.outputs+o] += w * pred[u*k.outputs+o]
			}
		}
	}
	return out, nil
}

// kernelPlan maps each (coalition c, background row r) pair to a
// distinct synthetic row.
type kernelPlan struct {
	row   []int32 // at c*nb+r: the index of the pair's distinct row
	first []int32 // per distinct row: the first pair, c*nb+r, that makes it
}

// plan finds the distinct synthetic rows, comparing their bits (so -0
// and 0, or NaNs with different payloads, stay apart): rows are keyed by
// a hash of their bits, and a pair whose hash is taken by another row
// probes the next key.
func (k *kernelRow) plan(vary []int, coals []coalition) kernelPlan {
	nb := k.bg.X.Rows
	in := make([]bool, len(k.x)) // the coalition's features, by column
	scratch := make([]bool, len(k.x))
	p := kernelPlan{row: make([]int32, len(coals)*nb)}
	byHash := make(map[uint64]int32, len(coals)*nb/2)
	for c, co := range coals {
		clear(in)
		for i, j := range vary {
			in[j] = co.mask[i]
		}
		for r := range nb {
			h := k.hashRow(in, r)
			for {
				u, ok := byHash[h]
				if !ok {
					u = int32(len(p.first))
					byHash[h] = u
					p.first = append(p.first, int32(c*nb+r))
				} else if f := int(p.first[u]); !k.sameRow(in, r, coals[f/nb].mask, vary, f%nb, scratch) {
					h++ // a collision: probe on
					continue
				}
				p.row[c*nb+r] = u
				break
			}
		}
	}
	return p
}

// cell is column j of the synthetic row of background row r with the
// features in (by column) taken from x.
func (k *kernelRow) cell(in []bool, r, j int) float64 {
	if in[j] {
		return k.x[j]
	}
	return k.bg.X.Data[r*len(k.x)+j]
}

// hashRow hashes the bits of a synthetic row (FNV-1a over 64-bit words,
// with a final mix).
func (k *kernelRow) hashRow(in []bool, r int) uint64 {
	h := uint64(14695981039346656037)
	for j := range k.x {
		h ^= math.Float64bits(k.cell(in, r, j))
		h *= 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	return h ^ h>>33
}

// sameRow reports whether the synthetic row (in, r) has the bits of the
// one of background row r2 and coalition mask2 (over vary); in2 is
// scratch of len(k.x).
func (k *kernelRow) sameRow(in []bool, r int, mask2 []bool, vary []int, r2 int, in2 []bool) bool {
	clear(in2)
	for i, j := range vary {
		in2[j] = mask2[i]
	}
	for j := range k.x {
		if math.Float64bits(k.cell(in, r, j)) != math.Float64bits(k.cell(in2, r2, j)) {
			return false
		}
	}
	return true
}

// predictDistinct predicts the distinct synthetic rows, each given by its
// first (c, r) pair, in batches of kernelBatch rows, checking ctx before
// each batch, and returns their outputs in order.
func (k *kernelRow) predictDistinct(ctx context.Context, vary []int, coals []coalition, first []int32) ([]float64, error) {
	nb, p := k.bg.X.Rows, len(k.x)
	pred := make([]float64, len(first)*k.outputs)
	buf := model.NewMatrix(min(kernelBatch, len(first)), p)
	for lo := 0; lo < len(first); lo += kernelBatch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(lo+kernelBatch, len(first))
		mat := &model.Matrix{Rows: hi - lo, Cols: p, Data: buf.Data[:(hi-lo)*p]}
		for u := lo; u < hi; u++ {
			c, r := int(first[u])/nb, int(first[u])%nb
			row := mat.Row(u - lo)
			copy(row, k.bg.X.Row(r))
			for i, j := range vary {
				if coals[c].mask[i] {
					row[j] = k.x[j]
				}
			}
		}
		if err := k.f(pred[lo*k.outputs:hi*k.outputs], mat); err != nil {
			return nil, fmt.Errorf("explain: kernel: predict: %w", err)
		}
	}
	return pred, nil
}
