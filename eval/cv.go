package eval

import (
	"context"
	"fmt"
	"runtime"

	"golang.org/x/sync/errgroup"

	"github.com/tabforge/tabforge/split"
)

// CrossValidate calls fit once per fold, with the fold's index and rows,
// running up to workers calls at a time (workers <= 0 means
// runtime.GOMAXPROCS(0)), and returns their metrics in fold order. fit must
// be safe for concurrent use and should honour its ctx.
//
// The first fold to fail (or panic) cancels the ctx passed to the others;
// CrossValidate waits for running calls to return, starts no new ones, and
// returns that first error, wrapped with its fold index. If ctx is cancelled
// before all folds are done, it returns ctx's error. Results never depend on
// workers: each fold's metrics come from its own call only.
func CrossValidate(ctx context.Context, folds []split.Fold, workers int, fit func(ctx context.Context, i int, f split.Fold) (Metrics, error)) ([]Metrics, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// errgroup cancels gctx with the first fold's error as its cause.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	results := make([]Metrics, len(folds))
	stopped := false
	for i := range folds {
		if gctx.Err() != nil {
			stopped = true
			break
		}
		g.Go(func() error {
			m, err := runFold(gctx, i, folds[i], fit)
			results[i] = m
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if stopped {
		return nil, fmt.Errorf("eval: cross-validation: %w", context.Cause(gctx))
	}
	return results, nil
}

// runFold runs fit on one fold, turning a panic into an error.
func runFold(ctx context.Context, i int, f split.Fold, fit func(context.Context, int, split.Fold) (Metrics, error)) (m Metrics, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("eval: cross-validation fold %d: panic: %v", i, r)
		}
	}()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("eval: cross-validation fold %d: %w", i, context.Cause(ctx))
	}
	m, err = fit(ctx, i, f)
	if err != nil {
		return nil, fmt.Errorf("eval: cross-validation fold %d: %w", i, err)
	}
	return m, nil
}
