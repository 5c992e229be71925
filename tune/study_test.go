package tune

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// quadratic is a conditional objective: a categorical branch chooses which
// float parameter exists.
func quadratic(_ context.Context, t *Trial) (float64, error) {
	x := t.SuggestFloat("x", -10, 10, false)
	n := t.SuggestInt("n", 1, 100, true)
	switch t.SuggestCategorical("kind", []string{"a", "b"}) {
	case "a":
		y := t.SuggestFloat("ya", 0, 1, false)
		return (x-2)*(x-2) + y + float64(n)/100, nil
	default:
		y := t.SuggestFloat("yb", 1, 100, true)
		return (x-2)*(x-2) + math.Log(y) + float64(n)/100, nil
	}
}

func paramsOf(t *testing.T, s *Study) []string {
	t.Helper()
	trials, err := s.Trials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, tr := range trials {
		out = append(out, fmt.Sprint(tr.State, tr.ParamValues(), tr.Value))
	}
	return out
}

func TestStudyDeterministic(t *testing.T) {
	ctx := context.Background()
	for _, sampler := range []Sampler{RandomSampler{}, TPESampler{}, TPESampler{Multivariate: true, StartupTrials: 5}} {
		run := func(seed uint64) []string {
			s, err := NewStudy(ctx, "det", Config{Sampler: sampler, Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Optimize(ctx, quadratic, Budget{MaxTrials: 30}); err != nil {
				t.Fatal(err)
			}
			return paramsOf(t, s)
		}
		a, b, c := run(7), run(7), run(8)
		if !slices.Equal(a, b) {
			t.Errorf("%T%+v: two studies with seed 7 differ:\n%v\n%v", sampler, sampler, a, b)
		}
		if slices.Equal(a, c) {
			t.Errorf("%T%+v: seeds 7 and 8 give the same trials", sampler, sampler)
		}
	}
}

// TestParallelRandomMatchesSequential runs the same random-sampler study
// on 1 and 3 workers: every trial's parameters come from its own stream
// (seed, number), so the trials must be identical whatever the scheduling.
func TestParallelRandomMatchesSequential(t *testing.T) {
	ctx := context.Background()
	run := func(workers int) []string {
		s, err := NewStudy(ctx, "par", Config{Sampler: RandomSampler{}, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.Optimize(ctx, quadratic, Budget{MaxTrials: 40, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		if res.Complete != 40 || res.Total != 40 {
			t.Fatalf("workers=%d: %d complete, %d total; want 40", workers, res.Complete, res.Total)
		}
		return paramsOf(t, s)
	}
	if a, b := run(1), run(3); !slices.Equal(a, b) {
		t.Errorf("workers 1 and 3 give different trials:\n%v\n%v", a, b)
	}
}

func TestConditionalSpace(t *testing.T) {
	ctx := context.Background()
	s, err := NewStudy(ctx, "cond", Config{Sampler: TPESampler{Multivariate: true, StartupTrials: 5}, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Optimize(ctx, quadratic, Budget{MaxTrials: 40})
	if err != nil {
		t.Fatal(err)
	}
	trials, _ := s.Trials(ctx)
	for _, tr := range trials {
		kind, _ := tr.Param("kind")
		_, hasA := tr.Params["ya"]
		_, hasB := tr.Params["yb"]
		if hasA != (kind == "a") || hasB != (kind == "b") {
			t.Errorf("trial %d: kind %v with ya %v, yb %v", tr.Number, kind, hasA, hasB)
		}
	}
	if res.Complete != 40 || res.Best.Value > 1 {
		t.Errorf("Optimize = %d complete, best %v; want 40 and best <= 1", res.Complete, res.Best.Value)
	}
}

func TestGridCoversGrid(t *testing.T) {
	ctx := context.Background()
	grid := GridSampler{Grid: map[string][]any{
		"lr":    {0.01, 0.1, 0.3},
		"depth": {2, 4},
		"kind":  {"a", "b"},
	}}
	s, err := NewStudy(ctx, "grid", Config{Sampler: grid, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	obj := func(_ context.Context, t *Trial) (float64, error) {
		lr := t.SuggestFloat("lr", 0.001, 1, true)
		d := t.SuggestInt("depth", 1, 10, false)
		k := t.SuggestCategorical("kind", []string{"a", "b", "c"})
		extra := t.SuggestFloat("extra", 0, 1, false) // outside the grid: random
		_ = extra
		return lr + float64(d) + float64(len(k)), nil
	}
	res, err := s.Optimize(ctx, obj, Budget{MaxTrials: 100, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped != StopExhausted || res.Complete != 12 {
		t.Fatalf("Optimize = %+v; want 12 complete trials and StopExhausted", res)
	}
	seen := map[string]bool{}
	trials, _ := s.Trials(ctx)
	for _, tr := range trials {
		lr, _ := tr.Param("lr")
		d, _ := tr.Param("depth")
		k, _ := tr.Param("kind")
		key := fmt.Sprint(lr, d, k)
		if seen[key] {
			t.Errorf("grid point %s evaluated twice", key)
		}
		seen[key] = true
	}
	if len(seen) != grid.Size() {
		t.Errorf("%d grid points evaluated; want %d", len(seen), grid.Size())
	}
}

func TestAskTell(t *testing.T) {
	ctx := context.Background()
	s, err := NewStudy(ctx, "asktell", Config{Direction: Maximize, Sampler: RandomSampler{}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		tr, err := s.Ask(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Number() != i {
			t.Fatalf("trial number %d; want %d", tr.Number(), i)
		}
		x := tr.SuggestFloat("x", 0, 1, false)
		var oerr error
		if i == 3 {
			oerr = errors.New("boom")
		}
		st, err := s.Tell(ctx, tr, x, oerr)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]State{true: Fail, false: Complete}[i == 3]; st != want {
			t.Errorf("trial %d state %s; want %s", i, st, want)
		}
	}
	best, ok, err := s.Best(ctx)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	trials, _ := s.Trials(ctx)
	for _, tr := range trials {
		if tr.State == Complete && tr.Value > best.Value {
			t.Errorf("best %v is not the maximum (trial %d has %v)", best.Value, tr.Number, tr.Value)
		}
	}
	if _, err := s.Tell(ctx, &Trial{study: s, id: best.ID}, 1, nil); !errors.Is(err, ErrStateConflict) {
		t.Errorf("telling a finished trial again: %v; want ErrStateConflict", err)
	}
}

func TestTrialErrors(t *testing.T) {
	ctx := context.Background()
	s, _ := NewStudy(ctx, "errs", Config{Sampler: RandomSampler{}})
	res, err := s.Optimize(ctx, func(_ context.Context, t *Trial) (float64, error) {
		switch t.Number() {
		case 0:
			t.SuggestFloat("x", 1, 0, false) // invalid range
			return 1, nil
		case 1:
			panic("objective bug")
		case 2:
			return math.NaN(), nil
		}
		return 2, nil
	}, Budget{MaxTrials: 4})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 3 || res.Complete != 1 || res.Best.Number != 3 {
		t.Errorf("Optimize = %+v; want 3 failed, 1 complete, best trial 3", res)
	}
	s2, _ := NewStudy(ctx, "allfail", Config{Sampler: RandomSampler{}})
	if _, err := s2.Optimize(ctx, func(context.Context, *Trial) (float64, error) {
		return 0, errors.New("no data")
	}, Budget{MaxTrials: 2}); err == nil {
		t.Error("Optimize with only failing trials returned no error")
	}
}

// TestResumeAfterFailures: a study whose every trial failed (a bug, a
// crashed worker) and that is reopened, as a rerun resumes it, samples
// new trials and ends with a best one, as an Optuna study does. The failed
// trials used to fill MaxTrials, so the resumed study ran no trial, had
// no best and the pipeline fell back to the family defaults.
func TestResumeAfterFailures(t *testing.T) {
	ctx := context.Background()
	st := &Memory{}
	const budget = 4
	for _, size := range []int{0, 2} { // Optimize and OptimizeBatch
		name := fmt.Sprint("refail", size)
		optimize := func(obj func(context.Context, *Trial) (float64, error)) (Result, error) {
			s, err := NewStudy(ctx, name, Config{Sampler: RandomSampler{}, Storage: st, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			if size == 0 {
				return s.Optimize(ctx, obj, Budget{MaxTrials: budget})
			}
			return s.OptimizeBatch(ctx, BatchObjective{Evaluate: obj}, Budget{MaxTrials: budget}, Batch{Size: size})
		}
		if res, err := optimize(func(context.Context, *Trial) (float64, error) {
			return 0, errors.New("worker lost")
		}); err == nil || res.Failed != budget {
			t.Fatalf("size %d: failing session = %+v, %v; want %d failed trials and an error", size, res, err, budget)
		}
		res, err := optimize(quadratic)
		if err != nil {
			t.Fatal(err)
		}
		if res.Complete != budget || !res.HasBest || res.Best.State != Complete || res.Total != budget {
			t.Errorf("size %d: resumed after %d failed trials: %+v; want %d new complete trials, a best, total %d", size, budget, res, budget, budget)
		}
	}
}

// TestAbort: an objective error wrapping ErrAbort stops the study after
// that trial (sequential and batched), and Optimize returns it; other
// failures only fail their trial.
func TestAbort(t *testing.T) {
	ctx := context.Background()
	gone := fmt.Errorf("%w: every worker left", ErrAbort)
	obj := func(_ context.Context, t *Trial) (float64, error) {
		t.SuggestFloat("x", 0, 1, false)
		switch t.Number() {
		case 1:
			return 0, errors.New("one bad trial")
		case 3:
			return 0, gone
		}
		return 1, nil
	}
	s, _ := NewStudy(ctx, "abort", Config{Sampler: RandomSampler{}})
	res, err := s.Optimize(ctx, obj, Budget{MaxTrials: 10})
	if !errors.Is(err, ErrAbort) || res.Complete != 2 || res.Failed != 2 || res.Stopped != StopError {
		t.Errorf("Optimize = %+v, %v; want ErrAbort after 2 complete and 2 failed trials", res, err)
	}
	b, _ := NewStudy(ctx, "abort-batch", Config{Sampler: RandomSampler{}})
	res, err = b.OptimizeBatch(ctx, BatchObjective{
		Suggest:  func(t *Trial) error { t.SuggestFloat("x", 0, 1, false); return nil },
		Evaluate: obj}, Budget{MaxTrials: 10}, Batch{Size: 2})
	if !errors.Is(err, ErrAbort) || res.Complete+res.Failed != 4 {
		t.Errorf("OptimizeBatch = %+v, %v; want ErrAbort after the second batch", res, err)
	}
}

// TestTimeBudget: with a 2 s budget and 0.3 s trials, Optimize returns
// within 2 s plus one trial (0.25 s of slack for a loaded machine), whether
// or not the objective honours its context.
func TestTimeBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 5 s")
	}
	const (
		budget = 2 * time.Second
		trial  = 300 * time.Millisecond
		slack  = 250 * time.Millisecond
	)
	for _, honour := range []bool{true, false} {
		ctx := context.Background()
		s, _ := NewStudy(ctx, "time", Config{Sampler: RandomSampler{}})
		var started atomic.Int32
		start := time.Now()
		res, err := s.Optimize(ctx, func(ctx context.Context, t *Trial) (float64, error) {
			started.Add(1)
			x := t.SuggestFloat("x", 0, 1, false)
			if !honour {
				time.Sleep(trial)
				return x, nil
			}
			select {
			case <-time.After(trial):
				return x, nil
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}, Budget{MaxDuration: budget, Workers: 2})
		elapsed := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		limit := budget + slack
		if !honour {
			limit += trial
		}
		t.Logf("honour ctx %v: %v, %+v", honour, elapsed, res)
		if elapsed > limit {
			t.Errorf("honour ctx %v: Optimize took %v; want <= %v", honour, elapsed, limit)
		}
		if res.Stopped != StopDeadline || res.Complete < 8 {
			t.Errorf("honour ctx %v: %+v; want StopDeadline and >= 8 complete trials", honour, res)
		}
		if honour && res.Complete+res.Interrupted != int(started.Load()) {
			t.Errorf("%d trials started, %d complete + %d interrupted", started.Load(), res.Complete, res.Interrupted)
		}
	}
}

// TestResumeInterrupted cancels a study mid-way, reopens it from the same
// storage and checks that it finishes the budget without repeating a
// finished trial and retries the interrupted ones first.
func TestResumeInterrupted(t *testing.T) {
	testResume(t, &Memory{})
}

func testResume(t *testing.T, st Storage) {
	ctx := context.Background()
	const budget = 20
	cfg := Config{Sampler: TPESampler{StartupTrials: 5}, Storage: st, Seed: 9}
	s, err := NewStudy(ctx, "resume", cfg)
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	var calls atomic.Int32
	obj := func(ctx context.Context, t *Trial) (float64, error) {
		x := t.SuggestFloat("x", -5, 5, false)
		if calls.Add(1) == 8 {
			cancel() // the "crash": trial 7 and its sibling are interrupted
			<-ctx.Done()
			return 0, ctx.Err()
		}
		return x * x, nil
	}
	res, err := s.Optimize(cctx, obj, Budget{MaxTrials: budget, Workers: 2})
	if !errors.Is(err, context.Canceled) || res.Stopped != StopCancelled {
		t.Fatalf("cancelled Optimize = %+v, %v; want StopCancelled and context.Canceled", res, err)
	}
	before, _ := s.Trials(ctx)
	finished := map[int]FrozenTrial{}
	for _, tr := range before {
		if tr.State == Complete {
			finished[tr.Number] = tr
		}
	}
	if len(finished) == 0 || len(finished) >= budget {
		t.Fatalf("%d trials finished before the crash; want some", len(finished))
	}

	s2, err := NewStudy(ctx, "resume", cfg)
	if err != nil {
		t.Fatal(err)
	}
	calls.Store(-1000)
	res2, err := s2.Optimize(ctx, obj, Budget{MaxTrials: budget, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := s2.Trials(ctx)
	if res2.Total != budget || counted(after) != budget {
		t.Errorf("resumed study counts %d trials; want %d", res2.Total, budget)
	}
	retried := 0
	for _, tr := range after {
		if old, ok := finished[tr.Number]; ok && (tr.State != old.State || tr.Value != old.Value) {
			t.Errorf("finished trial %d changed: %+v -> %+v", tr.Number, old, tr)
		}
		if tr.RetryOf >= 0 {
			retried++
			orig := after[tr.RetryOf]
			if orig.State != Fail || fmt.Sprint(orig.Params) != fmt.Sprint(tr.Params) || tr.State != Complete {
				t.Errorf("retry %d of trial %d: %v %v, original %v %v", tr.Number, tr.RetryOf, tr.State, tr.Params, orig.State, orig.Params)
			}
		}
	}
	if retried == 0 {
		t.Error("no interrupted trial was retried")
	}
	// Every trial run in the second session is new: it was not among the
	// finished ones.
	if got := int(calls.Load()) + 1000; got != budget-len(finished) {
		t.Errorf("second session ran %d trials; want %d", got, budget-len(finished))
	}
}

// TestEnqueueWarmStart: the best trial of one study, enqueued in a new
// one, is that study's trial 0 with the same parameters, counts toward
// its budget, and parameters it lacks are sampled.
func TestEnqueueWarmStart(t *testing.T) {
	ctx := context.Background()
	src, err := NewStudy(ctx, "src", Config{Sampler: TPESampler{}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Optimize(ctx, quadratic, Budget{MaxTrials: 20}); err != nil {
		t.Fatal(err)
	}
	best, ok, err := src.Best(ctx)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	dst, err := NewStudy(ctx, "dst", Config{Sampler: TPESampler{}, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	partial := maps.Clone(best.Params)
	delete(partial, "n")
	if err := dst.Enqueue(ctx, partial, best.Distributions); err != nil {
		t.Fatal(err)
	}
	res, err := dst.Optimize(ctx, quadratic, Budget{MaxTrials: 5})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 5 {
		t.Errorf("total %d trials; want 5 (the enqueued one counts)", res.Total)
	}
	trials, _ := dst.Trials(ctx)
	first := trials[0]
	if first.Number != 0 || first.State != Complete {
		t.Fatalf("first trial %d in state %v; want the enqueued trial 0, complete", first.Number, first.State)
	}
	for name, v := range partial {
		if first.Params[name] != v {
			t.Errorf("enqueued %s = %v; trial 0 ran %v", name, v, first.Params[name])
		}
	}
	if _, ok := first.Params["n"]; !ok {
		t.Error("parameter n, missing from the enqueued trial, was not sampled")
	}
	if err := dst.Enqueue(ctx, map[string]float64{"x": 1}, nil); err == nil {
		t.Error("Enqueue without a distribution succeeded")
	}
}
