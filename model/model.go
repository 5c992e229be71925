// Package model owns the contract between tabforge and its learners: the
// dense design Matrix they train on, the Dataset (features, target,
// weights, task), the Learner (hyperparameters; Fit) and Model (fitted,
// immutable; Predict) interfaces, a Registry of model families by name, and
// the versioned, checksummed file envelope models are saved in.
//
// Learners see numbers only. Turning a frame.Frame into a Matrix
// (imputation, encoding, scaling) is the job of package features, fitted on
// training rows only.
package model

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/tabforge/tabforge/progress"
)

// Task is the kind of supervised problem.
type Task string

// Tasks.
const (
	Regression Task = "regression"
	Binary     Task = "binary"
	Multiclass Task = "multiclass"
)

// IsClassification reports whether t is binary or multiclass.
func (t Task) IsClassification() bool { return t == Binary || t == Multiclass }

// ParseTask validates a task name.
func ParseTask(s string) (Task, error) {
	switch t := Task(s); t {
	case Regression, Binary, Multiclass:
		return t, nil
	}
	return "", fmt.Errorf("unknown task %q (allowed: regression, binary, multiclass)", s)
}

// Matrix is a dense row-major matrix of float64. NaN marks a missing value;
// learners that cannot handle missing values reject it with an error.
type Matrix struct {
	Rows, Cols int
	Data       []float64 // len Rows*Cols, row i at Data[i*Cols:(i+1)*Cols]
}

// NewMatrix allocates a zero Rows×Cols matrix.
func NewMatrix(rows, cols int) *Matrix {
	return &Matrix{Rows: rows, Cols: cols, Data: make([]float64, rows*cols)}
}

// Row returns row i as a slice aliasing m.Data.
func (m *Matrix) Row(i int) []float64 { return m.Data[i*m.Cols : (i+1)*m.Cols] }

// At returns element (i, j).
func (m *Matrix) At(i, j int) float64 { return m.Data[i*m.Cols+j] }

// TakeRows returns a new matrix of the given rows.
func (m *Matrix) TakeRows(rows []int) *Matrix {
	out := NewMatrix(len(rows), m.Cols)
	for k, r := range rows {
		copy(out.Row(k), m.Row(r))
	}
	return out
}

// Dataset is what a Learner fits: features, target and optional weights.
type Dataset struct {
	X *Matrix
	// Y is the target: the value for regression, the class index
	// 0..NumClasses-1 (as float64) for classification.
	Y []float64
	// Weights are per-row sample weights; nil means all ones.
	Weights []float64
	Task    Task
	// NumClasses is the number of classes for classification (>= 2).
	NumClasses int
	// FeatureNames names the columns of X, for importances and export.
	FeatureNames []string
	// Categorical marks columns of X that hold ordinal category codes
	// (0, 1, 2, ...; NaN = missing), so learners with native categorical
	// support can use it. Nil means none.
	Categorical []bool
	// Time, when not nil, orders the rows in time (one key per row). A
	// learner that holds rows out of its own training (for early
	// stopping) then holds out the latest, as the model will be used on
	// data later than it saw.
	Time []float64
}

// TakeRows returns a new Dataset holding the listed rows of d (repeats
// allowed) in that order: X, Y and Weights are copied, the other fields are
// shared with d. Every index must be in [0, d.X.Rows).
func (d *Dataset) TakeRows(rows []int) *Dataset {
	out := *d
	out.X = d.X.TakeRows(rows)
	out.Y = takeRows(d.Y, rows)
	if d.Weights != nil {
		out.Weights = takeRows(d.Weights, rows)
	}
	if d.Time != nil {
		out.Time = takeRows(d.Time, rows)
	}
	return &out
}

func takeRows(v []float64, rows []int) []float64 {
	out := make([]float64, len(rows))
	for i, r := range rows {
		out[i] = v[r]
	}
	return out
}

// Validate checks the dataset's shape and target.
func (d *Dataset) Validate() error {
	switch {
	case d.X == nil || d.X.Rows == 0:
		return ErrEmpty
	case len(d.X.Data) != d.X.Rows*d.X.Cols:
		return fmt.Errorf("model: matrix data has %d values, want %d×%d", len(d.X.Data), d.X.Rows, d.X.Cols)
	case len(d.Y) != d.X.Rows:
		return fmt.Errorf("model: %d targets for %d rows", len(d.Y), d.X.Rows)
	case d.Weights != nil && len(d.Weights) != d.X.Rows:
		return fmt.Errorf("model: %d weights for %d rows", len(d.Weights), d.X.Rows)
	case d.Time != nil && len(d.Time) != d.X.Rows:
		return fmt.Errorf("model: %d time keys for %d rows", len(d.Time), d.X.Rows)
	case d.Task.IsClassification() && d.NumClasses < 2:
		return fmt.Errorf("model: %s task needs at least 2 classes, got %d", d.Task, d.NumClasses)
	}
	return nil
}

// ErrEmpty reports a dataset without rows.
var ErrEmpty = errors.New("model: empty training set")

// FitOptions change how a fit runs, never what it returns, so they stay out
// of cache keys.
type FitOptions struct {
	// Workers bounds parallelism; 0 means runtime.GOMAXPROCS(0). The fitted
	// model must not depend on it.
	Workers int
	// Progress receives events; nil means none.
	Progress progress.Func
}

// NumWorkers resolves Workers.
func (o FitOptions) NumWorkers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// Learner holds hyperparameters only. Fit does all the work, never modifies
// the Learner and keeps no reference to d.
type Learner interface {
	Fit(ctx context.Context, d *Dataset, o FitOptions) (Model, error)
}

// Model is fitted and immutable; Predict is safe for concurrent use.
type Model interface {
	// Family names the model family, as registered in a Registry.
	Family() string
	// NumOutputs is the number of values Predict writes per row: 1 for
	// regression (the prediction) and binary classification (probability
	// of class 1), NumClasses for multiclass (class probabilities).
	NumOutputs() int
	// Predict writes NumOutputs values per row of x into dst, which must
	// have length x.Rows*NumOutputs().
	Predict(dst []float64, x *Matrix) error
	// Params returns the hyperparameters the model was fitted with, as
	// plain data for reports and JSON.
	Params() map[string]any
	// MarshalBinary encodes the fitted model; the family's Decode in a
	// Registry restores it.
	MarshalBinary() ([]byte, error)
}
