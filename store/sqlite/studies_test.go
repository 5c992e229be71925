package sqlite

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tabforge/tabforge/tune"
)

func openStudy(t *testing.T, path string, cfg tune.Config) (*Store, *tune.Study) {
	t.Helper()
	st, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Storage = st
	s, err := tune.NewStudy(context.Background(), "resume", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return st, s
}

// TestStudyResumeAfterCancel cancels a study mid-way (two trials in
// flight), closes the store, reopens the file and finishes the budget: no
// finished trial is run again, the interrupted ones are retried with their
// parameters, and the study ends with exactly the budget.
func TestStudyResumeAfterCancel(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tf.db")
	const budget = 20
	cfg := tune.Config{Sampler: tune.TPESampler{StartupTrials: 5}, Pruner: tune.MedianPruner{}, Seed: 4}
	var calls atomic.Int32
	cctx, cancel := context.WithCancel(ctx)
	evaluated := map[string]int{} // parameter values → runs that finished
	var mu sync.Mutex
	obj := func(ctx context.Context, tr *tune.Trial) (float64, error) {
		x := tr.SuggestFloat("x", -5, 5, false)
		k := tr.SuggestCategorical("k", []string{"a", "b"})
		if calls.Add(1) == 9 {
			cancel()
			<-ctx.Done()
			return 0, ctx.Err()
		}
		for step := range 3 {
			tr.Report(x*x+float64(step), step)
		}
		mu.Lock()
		evaluated[fmt.Sprint(x, k)]++
		mu.Unlock()
		return x * x, nil
	}
	st, s := openStudy(t, path, cfg)
	res, err := s.Optimize(cctx, obj, tune.Budget{MaxTrials: budget, Workers: 2})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Optimize: %+v, %v; want context.Canceled", res, err)
	}
	first := res.Complete + res.Pruned + res.Failed
	st.Close()

	st, s = openStudy(t, path, cfg)
	defer st.Close()
	res, err = s.Optimize(ctx, obj, tune.Budget{MaxTrials: budget, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != budget || first+res.Complete+res.Pruned+res.Failed != budget {
		t.Errorf("resumed: %+v after %d complete; want %d trials in total", res, first, budget)
	}
	for key, n := range evaluated {
		if n > 1 {
			t.Errorf("parameters %s evaluated to completion %d times", key, n)
		}
	}
	trials, err := s.Trials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	retries := 0
	for _, tr := range trials {
		if tr.RetryOf < 0 {
			continue
		}
		retries++
		orig := trials[tr.RetryOf]
		if orig.State != tune.Fail || fmt.Sprint(orig.ParamValues()) != fmt.Sprint(tr.ParamValues()) {
			t.Errorf("trial %d retries %d: %v %v vs %v %v", tr.Number, tr.RetryOf, tr.State, tr.ParamValues(), orig.State, orig.ParamValues())
		}
	}
	if retries == 0 {
		t.Error("no interrupted trial was retried")
	}
}

// TestStudyResumeAfterCrash leaves a trial Running, as a killed process
// does, and checks that reopening marks it failed and re-asks its
// parameters first.
func TestStudyResumeAfterCrash(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tf.db")
	cfg := tune.Config{Sampler: tune.RandomSampler{}, Direction: tune.Maximize, Seed: 1}
	st, s := openStudy(t, path, cfg)
	for range 3 {
		tr, err := s.Ask(ctx)
		if err != nil {
			t.Fatal(err)
		}
		v := tr.SuggestFloat("x", 0, 1, false)
		tr.Report(v/2, 0)
		if _, err := s.Tell(ctx, tr, v, nil); err != nil {
			t.Fatal(err)
		}
	}
	dead, err := s.Ask(ctx) // the process dies while this trial runs
	if err != nil {
		t.Fatal(err)
	}
	x := dead.SuggestInt("n", 1, 1000, true)
	st.Close()

	st, s = openStudy(t, path, cfg)
	defer st.Close()
	trials, err := s.Trials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != 5 || trials[3].State != tune.Fail || trials[4].State != tune.Waiting || trials[4].RetryOf != 3 {
		t.Fatalf("after reopening: %+v; want trial 3 failed and trial 4 waiting to retry it", trials)
	}
	if trials[0].Intermediate[0] != trials[0].Value/2 || math.IsNaN(trials[0].Value) {
		t.Errorf("trial 0 round trip: value %v, intermediate %v", trials[0].Value, trials[0].Intermediate)
	}
	tr, err := s.Ask(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Number() != 4 || tr.SuggestInt("n", 1, 1000, true) != x {
		t.Errorf("re-asked trial %d with n %v; want trial 4 with the dead trial's n %d", tr.Number(), tr.Params()["n"], x)
	}
	if _, err := s.Tell(ctx, tr, 0.5, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := tune.NewStudy(ctx, "resume", tune.Config{Storage: st, Direction: tune.Minimize}); err == nil {
		t.Error("reopening a maximize study as minimize succeeded")
	}
	if err := st.FinishTrial(ctx, trials[0].ID, tune.Fail, math.NaN(), ""); !errors.Is(err, tune.ErrStateConflict) {
		t.Errorf("finishing a finished trial: %v; want ErrStateConflict", err)
	}
}
