package tune

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"time"

	"golang.org/x/sync/errgroup"
)

// Liar is the value OptimizeBatch pretends the running trials of a batch
// scored while it samples the next one (Ginsbourger, Le Riche and
// Carraro, "Kriging is well-suited to parallelize optimization", 2010).
type Liar string

// Liars. LieWorst, Optuna's constant_liar, pushes a sampler away from the
// points already in the batch; LieMean is less pessimistic.
const (
	LieWorst Liar = "worst"
	LieMean  Liar = "mean"
)

// Batch configures OptimizeBatch.
type Batch struct {
	// Size is the number of trials proposed and evaluated together:
	// usually the number of workers available. 0 means 1.
	Size int
	// Liar is the value running trials of the batch are given while the
	// next is sampled; "" means LieWorst.
	Liar Liar
}

// BatchObjective is an objective in two parts, so that a batch's
// parameters are all chosen before any trial runs.
type BatchObjective struct {
	// Suggest chooses the trial's parameters (Trial.Suggest and its
	// wrappers) and nothing else. It is called for each trial of a batch
	// in turn; an error fails the trial.
	Suggest func(t *Trial) error
	// Evaluate runs the trial, side by side with the rest of its batch,
	// and returns its value, as Optimize's objective does.
	Evaluate func(ctx context.Context, t *Trial) (float64, error)
}

// OptimizeBatch is Optimize with trials proposed b.Size at a time. The
// trials of a batch are asked in turn: each sees the earlier ones of the
// batch as Complete with the liar's value (the worst or mean value of
// the trials finished before the batch), so a model-based sampler such
// as TPE spreads the batch instead of proposing one point b.Size times.
// The batch is then evaluated concurrently and the next batch waits for
// all of it. Pruners see only the trials finished before the batch.
//
// Unlike Optimize with several workers, the study is reproducible: for a
// given seed and batch size the same trials get the same parameters
// whatever the evaluation order. Budget.Workers is ignored; the budget's
// deadline and MaxTrials apply as in Optimize, and a batch is cut to the
// trials MaxTrials still allows.
func (s *Study) OptimizeBatch(ctx context.Context, obj BatchObjective, budget Budget, b Batch) (Result, error) {
	start := time.Now()
	if budget.MaxTrials < 0 || budget.MaxDuration < 0 || b.Size < 0 {
		return Result{}, fmt.Errorf("tune: negative budget %+v or batch %+v", budget, b)
	}
	if budget.MaxTrials == 0 && budget.MaxDuration == 0 && ctx.Done() == nil {
		return Result{}, errors.New("tune: budget needs MaxTrials, MaxDuration or a context with a deadline")
	}
	if b.Liar != "" && b.Liar != LieWorst && b.Liar != LieMean {
		return Result{}, fmt.Errorf("tune: unknown liar %q (allowed: worst, mean)", b.Liar)
	}
	runCtx, cancel := ctx, context.CancelFunc(func() {})
	if budget.MaxDuration > 0 {
		runCtx, cancel = context.WithTimeout(ctx, budget.MaxDuration)
	}
	defer cancel()
	bg := context.WithoutCancel(ctx)
	trials, err := s.storage.Trials(ctx, s.id)
	if err != nil {
		return Result{}, fmt.Errorf("tune: optimize: %w", err)
	}
	r := &optimizeRun{total: counted(trials), finished: make(chan struct{}, len(trials)+max(1, b.Size))}
	r.res.Stopped = StopMaxTrials
	evaluate := func(ctx context.Context, t *Trial) (float64, error) {
		if err := t.Err(); err != nil {
			return math.NaN(), err // Suggest failed
		}
		return obj.Evaluate(ctx, t)
	}
	var storeErr error
	for runCtx.Err() == nil {
		n := max(1, b.Size)
		if budget.MaxTrials > 0 {
			n = min(n, budget.MaxTrials-r.total)
		}
		if n <= 0 {
			break
		}
		batch, err := s.askBatch(runCtx, n, b.Liar, obj.Suggest)
		if errors.Is(err, ErrExhausted) {
			r.res.Stopped = StopExhausted
		} else if err != nil && runCtx.Err() == nil {
			storeErr = err
		}
		g := new(errgroup.Group)
		for _, t := range batch {
			r.reserve(0)
			g.Go(func() error { return r.trial(runCtx, bg, s, evaluate, t, budget.MaxTrials) })
		}
		if werr := g.Wait(); werr != nil && storeErr == nil {
			storeErr = werr
		}
		if err != nil || storeErr != nil {
			break
		}
	}
	return s.finishOptimize(ctx, runCtx, bg, r, budget, storeErr, time.Since(start))
}

// askBatch asks n trials in turn, each one's parameters chosen by suggest
// before the next is asked with it in the history as a lie. It returns
// the trials asked before an error.
func (s *Study) askBatch(ctx context.Context, n int, liar Liar, suggest func(*Trial) error) ([]*Trial, error) {
	before, err := s.storage.Trials(ctx, s.id)
	if err != nil {
		return nil, fmt.Errorf("tune: ask: %w", err)
	}
	finished := History{Direction: s.dir}
	for _, t := range before {
		if t.State.Finished() {
			finished.Trials = append(finished.Trials, t)
		}
	}
	lie, hasLie := lieValue(finished.Trials, s.dir, liar)
	lies := map[int64]float64{}
	var batch []*Trial
	for range n {
		t, err := s.ask(ctx, lies)
		if err != nil {
			return batch, err
		}
		t.pruneHist = &finished
		if err := callSuggest(suggest, t); err != nil {
			t.mu.Lock()
			t.setErr(err)
			t.mu.Unlock()
		}
		batch = append(batch, t)
		if hasLie {
			lies[t.id] = lie
		}
	}
	return batch, nil
}

// callSuggest runs suggest, turning a panic into an error.
func callSuggest(suggest func(*Trial) error, t *Trial) (err error) {
	if suggest == nil {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("suggest panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return suggest(t)
}

// lieValue is the liar's value over the Complete trials; false when none
// has a value (then there is nothing to lie with, and a sampler still in
// its random startup needs none).
func lieValue(trials []FrozenTrial, dir Direction, liar Liar) (float64, bool) {
	var vals []float64
	for _, t := range trials {
		if t.State == Complete && !math.IsNaN(t.Value) {
			vals = append(vals, t.Value)
		}
	}
	if len(vals) == 0 {
		return 0, false
	}
	if liar == LieMean {
		sum := 0.0
		for _, v := range vals {
			sum += v
		}
		return sum / float64(len(vals)), true
	}
	worst := vals[0]
	for _, v := range vals[1:] {
		if dir.better(worst, v) {
			worst = v
		}
	}
	return worst, true
}
