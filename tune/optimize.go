package tune

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/tabforge/tabforge/progress"
)

// Budget bounds Study.Optimize. A zero field means no bound; at least one
// bound (or a context with a deadline) is required.
type Budget struct {
	// MaxTrials is the number of finished trials the study should reach:
	// the Complete and Pruned trials of earlier sessions of a resumed
	// study, and every trial this call finishes, failed ones included
	// (interrupted trials, which are retried, excepted). Earlier
	// sessions' failed trials do not count, so resuming a study whose
	// trials all failed samples new ones.
	MaxTrials int
	// MaxDuration bounds this call's wall-clock time: no trial starts
	// after it, and running trials see their context cancelled at it;
	// one that then returns an error is interrupted (see Optimize), not
	// scored on what it finished. Optuna's timeout lets running trials
	// finish instead; a hard bound keeps a slow trial from taking the
	// time of the studies after it.
	MaxDuration time.Duration
	// Workers is the number of trials run concurrently; 0 means 1. With
	// more than one worker the sampler sees a history that depends on
	// timing, so the study is no longer reproducible.
	Workers int
}

// StopReason says why Optimize returned.
type StopReason string

// Stop reasons.
const (
	StopMaxTrials StopReason = "max_trials"
	StopDeadline  StopReason = "deadline"
	StopCancelled StopReason = "cancelled"
	StopExhausted StopReason = "exhausted"
	StopError     StopReason = "error"
)

// Result summarises one Optimize call.
type Result struct {
	// Complete, Pruned and Failed count the trials this call finished in
	// each state; Interrupted counts those cut short by the deadline or a
	// cancelled context (recorded Fail and enqueued to be retried).
	Complete, Pruned, Failed, Interrupted int
	// Total is the study's count of finished trials toward MaxTrials
	// when the call returned.
	Total int
	// Best is the study's best Complete trial; HasBest is false if none.
	Best    FrozenTrial
	HasBest bool
	Stopped StopReason
	Elapsed time.Duration
}

// Optimize runs objective on new trials until the budget is spent, the
// sampler is exhausted or ctx is cancelled. Each call of objective gets a
// context cancelled at the budget's deadline; an objective that returns
// an error once that context is done counts as interrupted, its trial is
// recorded Fail and enqueued to be retried by a later Optimize. Other
// objective errors (and panics) fail their trial and the study goes on;
// if no trial of this call completes and some failed, the first failure is
// returned. Storage errors, and objective errors wrapping ErrAbort, stop
// the study and are returned. If ctx is cancelled, Optimize
// returns the result so far and ctx's error.
func (s *Study) Optimize(ctx context.Context, objective func(ctx context.Context, t *Trial) (float64, error), b Budget) (Result, error) {
	start := time.Now()
	if b.MaxTrials < 0 || b.MaxDuration < 0 || b.Workers < 0 {
		return Result{}, fmt.Errorf("tune: negative budget %+v", b)
	}
	if b.MaxTrials == 0 && b.MaxDuration == 0 && ctx.Done() == nil {
		return Result{}, errors.New("tune: budget needs MaxTrials, MaxDuration or a context with a deadline")
	}
	runCtx, cancel := ctx, context.CancelFunc(func() {})
	if b.MaxDuration > 0 {
		runCtx, cancel = context.WithTimeout(ctx, b.MaxDuration)
	}
	defer cancel()
	// Bookkeeping writes must land even after the deadline.
	bg := context.WithoutCancel(ctx)

	trials, err := s.storage.Trials(ctx, s.id)
	if err != nil {
		return Result{}, fmt.Errorf("tune: optimize: %w", err)
	}
	r := &optimizeRun{total: counted(trials), finished: make(chan struct{}, 1)}
	r.res.Stopped = StopMaxTrials
	// g owns the trial goroutines; a trial's storage error cancels gctx,
	// which stops new trials while running ones finish on runCtx. sem holds
	// a worker slot from before Ask until the trial is told, so the sampler
	// sees every trial that finished before it.
	g, gctx := errgroup.WithContext(runCtx)
	sem := semaphore.NewWeighted(int64(max(1, b.Workers)))
	var askErr error
loop:
	for sem.Acquire(gctx, 1) == nil {
		if gctx.Err() != nil {
			sem.Release(1)
			break
		}
		if ok, wait := r.reserve(b.MaxTrials); !ok {
			sem.Release(1)
			if !wait {
				break
			}
			// A running trial's end may free its place in the budget
			// (an interrupted trial does not count).
			select {
			case <-r.finished:
				continue
			case <-gctx.Done():
				break loop
			}
		}
		t, err := s.Ask(runCtx)
		if err != nil {
			r.release()
			sem.Release(1)
			if errors.Is(err, ErrExhausted) {
				r.res.Stopped = StopExhausted
			} else if runCtx.Err() == nil {
				askErr = err
			}
			break
		}
		g.Go(func() error {
			defer sem.Release(1)
			return r.trial(runCtx, bg, s, objective, t, b.MaxTrials)
		})
	}
	storeErr := g.Wait()
	if storeErr == nil {
		storeErr = askErr
	}
	return s.finishOptimize(ctx, runCtx, bg, r, b, storeErr, time.Since(start))
}

// optimizeRun is the bookkeeping of one Optimize call, shared by its trial
// goroutines under mu.
type optimizeRun struct {
	mu        sync.Mutex
	res       Result
	firstFail error
	running   int
	total     int
	finished  chan struct{} // signalled whenever a trial ends
}

// reserve counts a new running trial if the budget of maxTrials (0: none)
// allows it. Otherwise it reports whether a running trial may still free
// a place (wait) or the budget is spent.
func (r *optimizeRun) reserve(maxTrials int) (ok, wait bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if maxTrials > 0 && r.total+r.running >= maxTrials {
		return false, r.running > 0
	}
	r.running++
	return true, false
}

// release undoes reserve for a trial that did not start.
func (r *optimizeRun) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running--
}

// trial runs objective on t, records its outcome and counts it; an
// interrupted trial is enqueued to be retried. It returns only storage
// errors.
func (r *optimizeRun) trial(ctx, bg context.Context, s *Study, objective func(context.Context, *Trial) (float64, error), t *Trial, maxTrials int) error {
	value, oerr := runObjective(ctx, objective, t)
	interrupted := oerr != nil && !errors.Is(oerr, ErrPruned) && ctx.Err() != nil
	if interrupted {
		oerr = fmt.Errorf(interruptedPrefix+": %w", oerr)
	}
	state, terr := s.Tell(bg, t, value, oerr)
	if terr == nil && interrupted {
		terr = s.enqueueRetry(bg, FrozenTrial{Number: t.number, Params: t.frozenParams(), Distributions: t.frozenDists()})
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running--
	select {
	case r.finished <- struct{}{}:
	default:
	}
	switch {
	case terr != nil:
		return terr
	case interrupted:
		r.res.Interrupted++
		return nil
	case state == Complete:
		r.res.Complete++
	case state == Pruned:
		r.res.Pruned++
	case state == Fail:
		r.res.Failed++
		if r.firstFail == nil {
			r.firstFail = fmt.Errorf("tune: trial %d: %w", t.number, errOr(oerr, t.Err(), value))
		}
		if errors.Is(oerr, ErrAbort) {
			r.total++
			return fmt.Errorf("trial %d: %w", t.number, oerr)
		}
	}
	r.total++
	if s.prog != nil {
		m := map[string]float64{"value": value}
		s.prog.Emit(progress.Event{Stage: progress.TuneTrial, Name: s.name, Step: r.total, Total: maxTrials, Metrics: m})
	}
	return nil
}

// finishOptimize settles why Optimize stopped, reads the study's best
// trial and picks the error to return.
func (s *Study) finishOptimize(ctx, runCtx, bg context.Context, r *optimizeRun, b Budget, storeErr error, elapsed time.Duration) (Result, error) {
	res := r.res
	res.Elapsed = elapsed
	if res.Stopped == StopMaxTrials && runCtx.Err() != nil && (b.MaxTrials == 0 || r.total < b.MaxTrials) {
		res.Stopped = StopDeadline
		if ctx.Err() != nil {
			res.Stopped = StopCancelled
		}
	}
	if storeErr != nil {
		res.Stopped = StopError
	}
	res.Total = r.total
	trials, err := s.storage.Trials(bg, s.id)
	if err == nil {
		res.Best, res.HasBest = bestOf(trials, s.dir)
	}
	switch {
	case storeErr != nil:
		return res, fmt.Errorf("tune: optimize %q: %w", s.name, storeErr)
	case err != nil:
		return res, fmt.Errorf("tune: optimize %q: %w", s.name, err)
	case ctx.Err() != nil:
		return res, fmt.Errorf("tune: optimize %q: %w", s.name, ctx.Err())
	case res.Complete == 0 && r.firstFail != nil:
		return res, r.firstFail
	}
	return res, nil
}

func errOr(err, terr error, value float64) error {
	switch {
	case err != nil:
		return err
	case terr != nil:
		return terr
	case math.IsNaN(value):
		return errors.New("objective returned NaN")
	}
	return errors.New("failed")
}

// runObjective calls objective, turning a panic into an error.
func runObjective(ctx context.Context, objective func(context.Context, *Trial) (float64, error), t *Trial) (value float64, err error) {
	defer func() {
		if r := recover(); r != nil {
			value, err = math.NaN(), fmt.Errorf("objective panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return objective(ctx, t)
}
