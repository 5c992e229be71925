package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Unit is one piece of work the pipeline hands to an Executor, such as
// one cross-validation fold of one candidate.
type Unit struct {
	// Key names everything the result depends on (the step cache's key);
	// two units with one key have the same result.
	Key string
	// Kind says what Spec describes ("fold", EnsembleUnitKind, ...).
	Kind string
	// Spec describes the work by reference (dataset hash, config hash,
	// learner parameters, fold number), never by data, so that an
	// executor can send it to a worker holding the same dataset version.
	Spec json.RawMessage
	// Run computes the result in this process.
	Run func(ctx context.Context) ([]byte, error)
}

// UnitResult is a finished unit's result, and where and how long it ran.
type UnitResult struct {
	// Value is the result. It is bytes because it may cross a process
	// boundary; the unit's kind decides its encoding.
	Value []byte
	// Worker names the process that ran the unit: LocalWorker for this
	// one.
	Worker string
	// Queued is the time from submitting the unit to its start; Run the
	// time it ran. A result an earlier run left (on a queue) keeps the
	// times of the run that computed it.
	Queued, Run time.Duration
}

// LocalWorker is UnitResult.Worker for units run in this process.
const LocalWorker = "local"

// ErrNoWorkers, wrapped in a unit's error, says that an executor has no
// one to run units on (no queue worker connected, or every one gone): no
// later unit can succeed, so tuning stops and the run fails at once
// instead of failing trial after trial and family after family.
var ErrNoWorkers = errors.New("no tabforge worker is connected to the queue")

// An Executor runs units of work: in this process (Local), or on workers
// through a queue.
type Executor interface {
	// Execute runs every unit and calls done with each unit's index and
	// result as units finish; calls to done never overlap. The first
	// error, from a unit or from done, cancels the rest and is returned.
	Execute(ctx context.Context, units []Unit, done func(i int, r UnitResult) error) error
}

// A Parallel executor knows how many units it can run at once; tuning
// proposes that many trials together when tune_batch is 0 (auto).
type Parallel interface {
	Parallelism(ctx context.Context) int
}

// A Sharer executor makes bytes that exist only in the driver's memory
// (the candidates' predictions an ensemble unit combines) available to
// its workers under their content hash, which the unit's spec names; a
// worker fetches them with UnitRunner.Artifact. Sharing the same bytes
// again is harmless.
type Sharer interface {
	ShareArtifact(ctx context.Context, hash string, b []byte) error
}

// Local runs units in this process, Workers at a time (GOMAXPROCS when
// Workers is 0 or less). A unit that panics fails with an error instead
// of crashing the process.
type Local struct {
	Workers int
}

// Execute implements Executor.
func (l Local) Execute(ctx context.Context, units []Unit, done func(i int, r UnitResult) error) error {
	submitted := time.Now()
	workers := l.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	var mu sync.Mutex
	for i, u := range units {
		if gctx.Err() != nil {
			break // a unit failed or the caller cancelled: start no more
		}
		g.Go(func() error {
			start := time.Now()
			b, err := runUnit(gctx, u)
			if err != nil {
				return err
			}
			r := UnitResult{Value: b, Worker: LocalWorker, Queued: start.Sub(submitted), Run: time.Since(start)}
			mu.Lock()
			defer mu.Unlock()
			return done(i, r)
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return context.Cause(ctx) // the caller's cancellation, if it stopped the loop early
}

func runUnit(ctx context.Context, u Unit) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s %s: panic: %v", u.Kind, u.Key, r)
		}
	}()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return u.Run(ctx)
}
