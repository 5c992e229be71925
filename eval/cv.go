package eval

import (
	"context"
	"fmt"
	"runtime"
	"sync"

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
	workers = min(workers, len(folds))
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	results := make([]Metrics, len(folds))
	next := make(chan int)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
			cancel(err)
		}
	}
	for range workers {
		wg.Go(func() {
			for i := range next {
				m, err := runFold(ctx, i, folds[i], fit)
				if err != nil {
					fail(err)
					continue
				}
				results[i] = m
			}
		})
	}
	stopped := false
feed:
	for i := range folds {
		select {
		case next <- i:
		case <-ctx.Done():
			stopped = true
			break feed
		}
	}
	close(next)
	wg.Wait()

	if firstErr != nil {
		return nil, firstErr
	}
	if stopped {
		return nil, fmt.Errorf("eval: cross-validation: %w", context.Cause(ctx))
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
