package tree

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"

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
}

// Prepare validates d and rank-codes its columns, using up to workers
// goroutines (values < 1 mean 1). It returns an error for an invalid
// dataset, a non-finite feature value, a non-finite regression target, a
// class label that is not an integer in [0, NumClasses), or a negative,
// non-finite or all-zero weight vector. Cost: O(rows·cols·log rows).
func Prepare(ctx context.Context, d *model.Dataset, workers int) (*Prepared, error) {
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
			pr.y[i] = v
		}
	}
	if d.Weights != nil {
		pr.weights = slices.Clone(d.Weights)
		if err := checkWeights(pr.weights); err != nil {
			return nil, err
		}
	}

	pr.codes = make([][]uint32, p)
	pr.vals = make([][]float64, p)
	workers = max(1, min(workers, p))
	var wg sync.WaitGroup
	next := make(chan int, p)
	for f := range p {
		next <- f
	}
	close(next)
	for range workers {
		wg.Go(func() {
			type pair struct {
				v   float64
				row int32
			}
			buf := make([]pair, n)
			for f := range next {
				if ctx.Err() != nil {
					return
				}
				for i := range n {
					buf[i] = pair{d.X.Data[i*p+f], int32(i)}
				}
				slices.SortFunc(buf, func(a, b pair) int { return cmp.Compare(a.v, b.v) })
				codes := make([]uint32, n)
				var vals []float64
				for i, e := range buf {
					if i == 0 || e.v != buf[i-1].v {
						vals = append(vals, e.v)
					}
					codes[e.row] = uint32(len(vals) - 1)
				}
				pr.codes[f] = codes
				pr.vals[f] = slices.Clip(vals)
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("tree: prepare: %w", err)
	}
	return pr, nil
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
