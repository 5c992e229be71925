package features

import (
	"errors"
	"fmt"
)

// ErrEmpty reports a training frame without rows: there is nothing to learn
// medians, scales or levels from.
var ErrEmpty = errors.New("features: empty training frame")

// ErrWrongKind reports a column whose kind differs from the kind it had in
// training. It is wrapped in a *ColumnError naming the column.
var ErrWrongKind = errors.New("wrong column kind")

// MissingColumnError reports that a frame lacks a column the fitted
// transformation reads.
type MissingColumnError struct {
	Column string
}

// Error implements error.
func (e *MissingColumnError) Error() string {
	return fmt.Sprintf("features: missing column %q", e.Column)
}

// ColumnError reports bad data in one column: a wrong kind, an infinite
// value, a categorical code outside the column's levels. Unwrap returns
// Err, so errors.Is(err, ErrWrongKind) works through it.
type ColumnError struct {
	Column string
	Err    error
}

// Error implements error.
func (e *ColumnError) Error() string {
	return fmt.Sprintf("features: column %q: %v", e.Column, e.Err)
}

// Unwrap returns e.Err.
func (e *ColumnError) Unwrap() error { return e.Err }
