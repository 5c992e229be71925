package gbdt

import (
	"context"
	"fmt"
	"slices"

	"github.com/tabforge/tabforge/internal/par"
	"github.com/tabforge/tabforge/model"
)

// cutSampleRows caps the rows used to find quantile cuts; above it a
// seeded Bernoulli sample of about this many rows is used. 200k rows put a
// quantile of 256 bins within about 0.1% of its full-data rank.
const cutSampleRows = 200_000

// binMatrix is the training matrix binned once: uint8 codes stored
// feature-major, codes[f][r] for feature f of row r. Feature f has
// len(cuts[f])+1 value bins, coded 0..len(cuts[f]), and missing values
// (NaN) carry the code len(cuts[f])+1.
type binMatrix struct {
	rows, cols int
	codes      [][]uint8
	cuts       [][]float32
	cat        []bool    // features split by category sets
	lo         []float32 // smallest value of each categorical feature (bin 0)
	// A sparse feature has one code on at least sparseShare of the rows
	// (mostly zeros, mostly missing): dflt[f] is that code and nz[f] the
	// rows, increasing, with any other code; nz[f] is nil for the rest.
	// Its histogram reads only those rows (see sparseHist).
	dflt []uint8
	nz   [][]int32
}

// sparseShare is the least share of rows on one code for a feature to
// keep the list of its other rows: with 7/8 the list costs at most half
// the feature's codes in memory.
const sparseShare = 7.0 / 8

// findSparse fills dflt and nz for the features whose codes are mostly
// one value.
func (b *binMatrix) findSparse(workers int) {
	b.dflt, b.nz = make([]uint8, b.cols), make([][]int32, b.cols)
	par.Tasks(workers, b.cols, func(f int) {
		var count [256]int
		for _, c := range b.codes[f] {
			count[c]++
		}
		mode := 0
		for c, k := range count {
			if k > count[mode] {
				mode = c
			}
		}
		if float64(count[mode]) < sparseShare*float64(b.rows) {
			return
		}
		d := uint8(mode)
		nz := make([]int32, 0, b.rows-count[mode])
		for r, c := range b.codes[f] {
			if c != d {
				nz = append(nz, int32(r))
			}
		}
		b.dflt[f], b.nz[f] = d, nz
	})
}

// binCode returns the category code held by value bin b of categorical
// feature f (each category has its own bin).
func (b *binMatrix) binCode(f, bin int) int {
	if bin == 0 {
		return int(b.lo[f])
	}
	return int(b.cuts[f][bin-1])
}

// missing returns feature f's missing-value code.
func (b *binMatrix) missing(f int) int { return len(b.cuts[f]) + 1 }

// width is the number of codes feature f uses: its value bins and the
// missing code.
func (b *binMatrix) width(f int) int { return len(b.cuts[f]) + 2 }

// maxCategory bounds the codes of categorical splits: codes 0..254.
const maxCategory = 255

// newBinMatrix finds the cuts of every column of x (at most maxBin−1 value
// bins each, the last code being for missing values) and bins x. Columns
// flagged in categorical (nil: none) whose values are all integer codes in
// [0, maxCategory) with one bin per code are marked for categorical
// splits; their cuts come from all rows, not a sample, so that no code
// shares a bin.
func newBinMatrix(ctx context.Context, x *model.Matrix, maxBin int, seed uint64, workers int, categorical []bool) (*binMatrix, error) {
	n, p := x.Rows, x.Cols
	bm := &binMatrix{rows: n, cols: p, codes: make([][]uint8, p), cuts: make([][]float32, p),
		cat: make([]bool, p), lo: make([]float32, p)}
	if err := bm.findCuts(ctx, x, maxBin, cutSample(n, seed), workers, categorical); err != nil {
		return nil, fmt.Errorf("gbdt: binning: %w", err)
	}
	if err := bm.bin(ctx, x, workers); err != nil {
		return nil, fmt.Errorf("gbdt: binning: %w", err)
	}
	bm.findSparse(workers)
	return bm, nil
}

// cutSample returns the rows the cut search reads: nil (all) up to
// cutSampleRows, else a seeded sample of about that many.
func cutSample(n int, seed uint64) []int {
	if n <= cutSampleRows {
		return nil
	}
	rng := stream(seed, stageBinning, 0)
	frac := float64(cutSampleRows) / float64(n)
	sample := make([]int, 0, cutSampleRows+cutSampleRows/10)
	for r := range n {
		if rng.Float64() < frac {
			sample = append(sample, r)
		}
	}
	return sample
}

// findCuts sets every column's cuts from the non-missing values of the
// sample rows (all rows when sample is nil, and always for a categorical
// column), and marks the categorical columns whose values qualify.
func (bm *binMatrix) findCuts(ctx context.Context, x *model.Matrix, maxBin int, sample []int, workers int, categorical []bool) error {
	n, p := x.Rows, x.Cols
	valueBins := min(maxBin-1, maxCuts+1)
	var mu ctxErr
	par.Tasks(workers, p, func(f int) {
		if mu.check(ctx) {
			return
		}
		var vals []float32
		isCat := f < len(categorical) && categorical[f]
		if sample != nil && !isCat {
			vals = make([]float32, 0, len(sample))
			for _, r := range sample {
				if v := float32(x.Data[r*p+f]); v == v {
					vals = append(vals, v)
				}
			}
		} else {
			vals = make([]float32, 0, n)
			for r := range n {
				if v := float32(x.Data[r*p+f]); v == v {
					vals = append(vals, v)
				}
			}
		}
		slices.Sort(vals)
		bm.cuts[f] = cutsFromSorted(vals, valueBins)
		if isCat && len(vals) > 0 {
			codes := vals[0] >= 0 && vals[len(vals)-1] < maxCategory
			for _, v := range vals {
				if !codes || v != float32(int(v)) {
					codes = false
					break
				}
			}
			distinct := len(bm.cuts[f]) + 1
			if codes && distinct <= valueBins && (len(vals) == 1 || distinct == countDistinct(vals)) {
				bm.cat[f], bm.lo[f] = true, vals[0]
			}
		}
	})
	return mu.err()
}

// bin sets every column's codes from its cuts, missing values to the
// code after the value bins.
func (bm *binMatrix) bin(ctx context.Context, x *model.Matrix, workers int) error {
	n, p := x.Rows, x.Cols
	padded := make([]*paddedCuts, p)
	for f := range p {
		padded[f] = padCuts(bm.cuts[f])
		bm.codes[f] = make([]uint8, n)
	}
	var mu ctxErr
	const block = 1024 // 1024 rows × p float64 stay in L2 while every feature is binned
	par.Tasks(workers, blocks(n, block), func(t int) {
		if t%256 == 0 && mu.check(ctx) {
			return
		}
		lo, hi := t*block, min((t+1)*block, n)
		for f := range p {
			pc, nc, miss, col := padded[f], len(bm.cuts[f]), uint8(len(bm.cuts[f])+1), bm.codes[f][lo:hi]
			data := x.Data[lo*p+f:]
			for i := range col {
				v := float32(data[i*p])
				if v != v {
					col[i] = miss
					continue
				}
				col[i] = uint8(pc.bin(v, nc))
			}
		}
	})
	return mu.err()
}

// countDistinct counts the distinct values of sorted v.
func countDistinct(v []float32) int {
	n := 0
	for i := range v {
		if i == 0 || v[i] != v[i-1] {
			n++
		}
	}
	return n
}
