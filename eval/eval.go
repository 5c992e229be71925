// Package eval scores predictions and runs cross-validation.
//
// The metric functions follow scikit-learn's definitions (sklearn.metrics,
// version 1.2) unless their doc comment says otherwise, and agree with it
// to floating-point rounding. Each takes optional per-row sample weights:
// nil means every row weighs 1; weights must be finite and non-negative with
// a positive sum.
//
// Regression and Classification compute the named metric sets that the
// pipeline, the leaderboard and the CLI report (the key names, such as
// "rmse" and "auc", are part of the CLI contract; see the Key constants),
// Summarize aggregates them over folds, and CrossValidate runs folds
// concurrently.
//
// Bad data (length mismatch, empty input, NaN or ±Inf values, class indices
// out of range, probabilities outside [0, 1]) returns an error naming the
// offending index; nothing here panics on data.
package eval

import (
	"errors"
	"fmt"
	"math"
)

// ErrEmpty is wrapped by errors about inputs without rows.
var ErrEmpty = errors.New("eval: no rows")

// ErrLength is wrapped by errors about inputs of mismatched lengths.
var ErrLength = errors.New("eval: length mismatch")

func checkLen(name string, n, m int) error {
	if n != m {
		return fmt.Errorf("%w: y has %d rows, %s has %d", ErrLength, n, name, m)
	}
	return nil
}

func checkFinite(name string, x []float64) error {
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("eval: %s[%d] = %v is not finite", name, i, v)
		}
	}
	return nil
}

// checkWeights validates optional weights for n rows (nil is valid).
func checkWeights(w []float64, n int) error {
	if w == nil {
		return nil
	}
	if len(w) != n {
		return fmt.Errorf("%w: y has %d rows, weights has %d", ErrLength, n, len(w))
	}
	sum := 0.0
	for i, v := range w {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return fmt.Errorf("eval: weights[%d] = %v is not a finite non-negative number", i, v)
		}
		sum += v
	}
	if sum <= 0 {
		return errors.New("eval: weights sum to zero")
	}
	return nil
}

// weight returns w[i], or 1 if w is nil.
func weight(w []float64, i int) float64 {
	if w == nil {
		return 1
	}
	return w[i]
}

// checkPair validates a target and a prediction vector of real values.
func checkPair(y, pred, w []float64) error {
	if len(y) == 0 {
		return ErrEmpty
	}
	if err := checkLen("pred", len(y), len(pred)); err != nil {
		return err
	}
	if err := checkFinite("y", y); err != nil {
		return err
	}
	if err := checkFinite("pred", pred); err != nil {
		return err
	}
	return checkWeights(w, len(y))
}

// checkLabels validates class indices in [0, k).
func checkLabels(name string, y []int, k int) error {
	for i, c := range y {
		if c < 0 || c >= k {
			return fmt.Errorf("eval: %s[%d] = %d is not a class index in [0, %d)", name, i, c, k)
		}
	}
	return nil
}

func checkK(k int) error {
	if k < 2 {
		return fmt.Errorf("eval: %d classes: need at least 2", k)
	}
	return nil
}

func errInvalidTol(tol float64) error {
	return fmt.Errorf("eval: relative tolerance %v is not a finite non-negative number", tol)
}
