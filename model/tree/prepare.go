package tree

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/tabforge/tabforge/internal/par"
	"github.com/tabforge/tabforge/model"
)

// Prepared is a validated training set in the form the tree grower works
// on: every column rank-coded (the code of a value is its position among
// the column's sorted distinct values) plus the target and weights. It is
// built once and shared by all trees of a forest; Grow may be called
// concurrently. It keeps no reference to the Dataset it came from.
type Prepared struct {
	rows, cols int
	task       model.Task
	numClasses int
	codes      [][]uint32  // codes[f][row]
	vals       [][]float64 // vals[f][code]: distinct values, ascending
	y          []float64   // regression target
	label      []int32     // class index
	weights    []float64   // nil: all ones

	sortOnce sync.Once
	sorted   [][]uint64 // sorted[f]: (code<<32 | row) of every row, ascending; see sortedKeys
}

// maxTarget bounds a regression target's magnitude. Squared-error
// impurities sum wᵢyᵢ² over the rows: beyond about 1e154 a single square
// overflows, the impurities turn Inf or NaN and the splits are chosen
// wrongly without a sign (a depth-2 tree fitted to y·1e160 differed from
// the one fitted to y, scaled). 1e150 leaves room for the sums of a
// hundred million rows, and for a forest's average of its trees. gbdt
// bounds its targets likewise.
const maxTarget = 1e150

// Prepare validates d and rank-codes its columns, using up to workers
// goroutines (values < 1 mean 1). It returns an error for an invalid
// dataset, a non-finite feature value, a non-finite regression target, a
// class label that is not an integer in [0, NumClasses), or a negative,
// non-finite or all-zero weight vector. Cost: O(rows·cols·log rows).
func Prepare(ctx context.Context, d *model.Dataset, workers int) (*Prepared, error) {
	pr, err := newPrepared(d)
	if err != nil {
		return nil, err
	}
	if err := pr.code(ctx, d.X, workers); err != nil {
		return nil, fmt.Errorf("tree: prepare: %w", err)
	}
	return pr, nil
}

// newPrepared checks d and copies its labels or targets and weights:
// everything of Prepare but the feature codes.
func newPrepared(d *model.Dataset) (*Prepared, error) {
	if d == nil {
		return nil, fmt.Errorf("tree: nil dataset")
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("tree: %w", err)
	}
	if _, err := model.ParseTask(string(d.Task)); err != nil {
		return nil, fmt.Errorf("tree: %w", err)
	}
	if d.X.Cols == 0 {
		return nil, fmt.Errorf("tree: dataset has no feature columns")
	}
	if d.X.Rows >= math.MaxInt32 {
		return nil, fmt.Errorf("tree: %d rows exceed the limit of %d", d.X.Rows, math.MaxInt32-1)
	}
	n, p := d.X.Rows, d.X.Cols
	pr := &Prepared{rows: n, cols: p, task: d.Task, numClasses: d.NumClasses}
	for i, v := range d.X.Data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("tree: X[%d, %d] is %v: trees need finite features (impute missing values first)", i/p, i%p, v)
		}
	}
	if d.Task.IsClassification() {
		pr.label = make([]int32, n)
		for i, v := range d.Y {
			if !(v >= 0 && v < float64(d.NumClasses)) || v != math.Trunc(v) {
				return nil, fmt.Errorf("tree: label %v in row %d is not a class index in [0, %d)", v, i, d.NumClasses)
			}
			pr.label[i] = int32(v)
		}
	} else {
		pr.numClasses = 0
		pr.y = make([]float64, n)
		for i, v := range d.Y {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("tree: target in row %d is %v", i, v)
			}
			if math.Abs(v) > maxTarget {
				return nil, fmt.Errorf("tree: target in row %d is %v, beyond ±%g where squared errors overflow float64; rescale the target", i, v, maxTarget)
			}
			pr.y[i] = v
		}
	}
	if d.Weights != nil {
		pr.weights = slices.Clone(d.Weights)
		if err := checkWeights(pr.weights); err != nil {
			return nil, err
		}
	}
	return pr, nil
}

// code sets each feature's codes (the rank of each row's value among the
// feature's distinct values) and those values, sorting the features on
// up to workers goroutines.
func (pr *Prepared) code(ctx context.Context, x *model.Matrix, workers int) error {
	n, p := pr.rows, pr.cols
	pr.codes = make([][]uint32, p)
	pr.vals = make([][]float64, p)
	workers = max(1, min(workers, p))
	var wg par.Group // a panic in a worker reaches the caller's goroutine
	next := make(chan int, p)
	for f := range p {
		next <- f
	}
	close(next)
	for range workers {
		wg.Go(func() {
			keys := make([]uint64, n)
			rows := make([]int32, n)
			keys2 := make([]uint64, n)
			rows2 := make([]int32, n)
			for f := range next {
				if ctx.Err() != nil {
					return
				}
				for i := range n {
					keys[i] = orderedBits(x.Data[i*p+f])
					rows[i] = int32(i)
				}
				k, r := radixSortPairs(keys, rows, keys2, rows2)
				codes := make([]uint32, n)
				var vals []float64
				for i, row := range r {
					v := fromOrderedBits(k[i])
					// -0 and +0 sort apart but are one value.
					if i == 0 || v != vals[len(vals)-1] {
						vals = append(vals, v)
					}
					codes[row] = uint32(len(vals) - 1)
				}
				pr.codes[f] = codes
				pr.vals[f] = slices.Clip(vals)
			}
		})
	}
	wg.Wait()
	return ctx.Err()
}

// sortedKeys returns, per feature, the keys code<<32 | row of all rows in
// ascending order (rows with equal codes by row), building them on first
// use with a counting sort over the codes: O(rows·cols) time and 8 bytes
// per cell. It is safe for concurrent use; the result must not be
// modified.
func (pr *Prepared) sortedKeys() [][]uint64 {
	pr.sortOnce.Do(func() {
		pr.sorted = make([][]uint64, pr.cols)
		for f, codes := range pr.codes {
			start := make([]int, len(pr.vals[f])+1)
			for _, c := range codes {
				start[c+1]++
			}
			for i := 1; i < len(start); i++ {
				start[i] += start[i-1]
			}
			keys := make([]uint64, pr.rows)
			for r, c := range codes {
				keys[start[c]] = uint64(c)<<32 | uint64(r)
				start[c]++
			}
			pr.sorted[f] = keys
		}
	})
	return pr.sorted
}

// orderedBits maps a float64 to a uint64 whose unsigned order is the
// float's numeric order (with -0 just below +0); fromOrderedBits inverts
// it.
func orderedBits(v float64) uint64 {
	b := math.Float64bits(v)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}

func fromOrderedBits(b uint64) float64 {
	if b>>63 != 0 {
		return math.Float64frombits(b &^ (1 << 63))
	}
	return math.Float64frombits(^b)
}

// radixSortPairs sorts keys ascending, carrying rows along, by an LSD
// radix sort on bytes that skips the byte positions where all keys agree
// (the low mantissa bytes of float32 data, for example). It returns the
// sorted slices, which are either (keys, rows) or (keys2, rows2).
func radixSortPairs(keys []uint64, rows []int32, keys2 []uint64, rows2 []int32) ([]uint64, []int32) {
	n := len(keys)
	if n == 0 {
		return keys, rows
	}
	var count [8][256]int
	for _, k := range keys {
		for d := range 8 {
			count[d][byte(k>>(8*d))]++
		}
	}
	for d := range 8 {
		c := &count[d]
		if c[byte(keys[0]>>(8*d))] == n {
			continue // every key has the same byte here
		}
		sum := 0
		for i, v := range c {
			c[i] = sum
			sum += v
		}
		shift := uint(8 * d)
		for i, k := range keys {
			b := byte(k >> shift)
			keys2[c[b]] = k
			rows2[c[b]] = rows[i]
			c[b]++
		}
		keys, keys2 = keys2, keys
		rows, rows2 = rows2, rows
	}
	return keys, rows
}

func checkWeights(w []float64) error {
	var sum float64
	for i, v := range w {
		if !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("tree: weight %v in row %d must be finite and >= 0", v, i)
		}
		sum += v
	}
	if !(sum > 0) {
		return fmt.Errorf("tree: all sample weights are zero")
	}
	return nil
}

// Rows returns the number of training rows.
func (pr *Prepared) Rows() int { return pr.rows }

// Cols returns the number of features.
func (pr *Prepared) Cols() int { return pr.cols }

// Task returns the training task.
func (pr *Prepared) Task() model.Task { return pr.task }

// NumClasses returns the number of classes (0 for regression).
func (pr *Prepared) NumClasses() int { return pr.numClasses }

// Weight returns row i's sample weight (1 when the dataset had none).
func (pr *Prepared) Weight(i int) float64 {
	if pr.weights == nil {
		return 1
	}
	return pr.weights[i]
}

// Target returns row i's target: the value, or the class index.
func (pr *Prepared) Target(i int) float64 {
	if pr.label != nil {
		return float64(pr.label[i])
	}
	return pr.y[i]
}

// numOutputs is the width of a node's value: 1 for regression and binary
// (probability of class 1), NumClasses for multiclass.
func (pr *Prepared) numOutputs() int {
	if pr.task == model.Multiclass {
		return pr.numClasses
	}
	return 1
}
