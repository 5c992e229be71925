package linear

import (
	"context"
	"fmt"
	"math"

	"golang.org/x/sync/errgroup"

	"github.com/tabforge/tabforge/internal/par"
	"github.com/tabforge/tabforge/model"
)

// forChunks splits rows [0, n) into consecutive chunks of size chunk and
// calls fn(c, lo, hi) for each chunk c on up to workers goroutines. Each
// chunk is handled by exactly one call, so results stored per chunk and
// combined in chunk order do not depend on workers. It checks ctx before
// each chunk and returns the error of the lowest-numbered failing chunk; a
// failing chunk does not stop the others.
func forChunks(ctx context.Context, n, chunk, workers int, fn func(c, lo, hi int) error) error {
	nc := numChunks(n, chunk)
	errs := make([]error, nc)
	run := func(c int) {
		if errs[c] = ctx.Err(); errs[c] == nil {
			errs[c] = fn(c, c*chunk, min((c+1)*chunk, n))
		}
	}
	if workers <= 1 || nc == 1 {
		// Inline: a goroutine per chunk costs ~10% of a one-worker pass.
		for c := range nc {
			run(c)
		}
	} else {
		var g errgroup.Group
		g.SetLimit(workers)
		for c := range nc {
			g.Go(func() error {
				defer par.Recover(&errs[c]) // a panic is this chunk's error, not the process's end
				run(c)
				return nil
			})
		}
		g.Wait() // errors are kept per chunk, to return the lowest-numbered one
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// partBudget bounds the bytes of per-chunk q×q results held for the
// ordered reduction.
const partBudget = 1 << 27

// chunkRows returns the chunk size for n rows whose per-chunk result is a
// q×q matrix: base doubled until all parts fit in partBudget. It depends on
// n and q only, never on the worker count.
func chunkRows(n, base, q int) int {
	maxParts := max(1, partBudget/(8*q*q))
	c := base
	for numChunks(n, c) > maxParts {
		c *= 2
	}
	return c
}

// numChunks returns how many chunks of size chunk cover n rows.
func numChunks(n, chunk int) int { return (n + chunk - 1) / chunk }

// featureName names column j for error messages.
func featureName(names []string, j int) string {
	if j < len(names) && names[j] != "" {
		return names[j]
	}
	return fmt.Sprintf("column %d", j)
}

// badValueError describes a non-finite value in column j. Like
// badTargetError it has no "linear: " prefix: its callers add it.
func badValueError(names []string, j int, v float64) error {
	if math.IsNaN(v) {
		return fmt.Errorf("missing value in feature %q; impute first", featureName(names, j))
	}
	return fmt.Errorf("infinite value in feature %q", featureName(names, j))
}

// checkWeights validates sample weights (nil means all ones) and returns
// their sum.
func checkWeights(w []float64, n int) (float64, error) {
	if w == nil {
		return float64(n), nil
	}
	s := 0.0
	for i, v := range w {
		if !(v >= 0) || math.IsInf(v, 1) {
			return 0, fmt.Errorf("linear: sample weight %d is %v; weights must be finite and non-negative", i, v)
		}
		s += v
	}
	if !(s > 0) {
		return 0, fmt.Errorf("linear: sample weights sum to %v; need a positive sum", s)
	}
	return s, nil
}

// checkDataset validates d's shape and weights and returns the weight sum.
func checkDataset(d *model.Dataset) (float64, error) {
	if d == nil {
		return 0, model.ErrEmpty
	}
	if err := d.Validate(); err != nil {
		return 0, fmt.Errorf("linear: %w", err)
	}
	if d.X.Cols == 0 {
		return 0, fmt.Errorf("linear: design matrix has no columns")
	}
	return checkWeights(d.Weights, d.X.Rows)
}

// checkFinite returns the error for the first non-finite feature or
// target of d, in row order.
func checkFinite(d *model.Dataset) error {
	for i := range d.X.Rows {
		for j, v := range d.X.Row(i) {
			if v-v != 0 {
				return fmt.Errorf("row %d: %w", i, badValueError(d.FeatureNames, j, v))
			}
		}
		if v := d.Y[i]; v-v != 0 {
			return badTargetError(i, v)
		}
	}
	return nil
}

// badTargetError describes a non-finite target in row i.
func badTargetError(i int, v float64) error {
	return fmt.Errorf("target of row %d is %v; targets must be finite", i, v)
}
