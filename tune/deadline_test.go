package tune_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store/sqlite"
	"github.com/tabforge/tabforge/tune"
)

// TestDeadlineCutsRunningTrial pins what Budget.MaxDuration (a run's
// time_budget) does to a trial still running at the deadline, unlike
// Optuna's timeout, which lets it finish: the trial is cut, recorded Fail
// as interrupted, never Complete with the value it reported so far
// (a CV mean over the folds it finished), and it does not count toward
// MaxTrials; the next Optimize on the same storage (a resumed run)
// retries it first with the same parameters, and the study ends with
// MaxTrials finished trials, none run twice. The first trial waits for
// its context, so the deadline, whenever it comes, always cuts it.
func TestDeadlineCutsRunningTrial(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tf.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := tune.Config{Sampler: tune.RandomSampler{}, Storage: st, Seed: 3}
	s, err := tune.NewStudy(ctx, "cut", cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Optimize(ctx, func(ctx context.Context, tr *tune.Trial) (float64, error) {
		tr.SuggestFloat("x", 0, 1, false)
		tr.Report(0.5, 1) // one fold scored
		<-ctx.Done()
		return 0, ctx.Err()
	}, tune.Budget{MaxTrials: 3, MaxDuration: 50 * time.Millisecond})
	if err != nil || res.Stopped != tune.StopDeadline || res.Interrupted != 1 || res.Complete != 0 || res.Total != 0 {
		t.Fatalf("Optimize = %+v, %v; want one trial interrupted at the deadline, none counted", res, err)
	}
	trials, err := s.Trials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cut := trials[0]
	if cut.State != tune.Fail || !math.IsNaN(cut.Value) || cut.Error == "" {
		t.Fatalf("cut trial: %s, value %v, error %q; want fail, no value, interrupted", cut.State, cut.Value, cut.Error)
	}

	// The resumed run: trials now finish.
	s2, err := tune.NewStudy(ctx, "cut", cfg)
	if err != nil {
		t.Fatal(err)
	}
	ran := map[string]int{}
	res, err = s2.Optimize(ctx, func(_ context.Context, tr *tune.Trial) (float64, error) {
		x := tr.SuggestFloat("x", 0, 1, false)
		ran[fmt.Sprint(x)]++
		return x, nil
	}, tune.Budget{MaxTrials: 3})
	if err != nil || res.Complete != 3 || res.Total != 3 {
		t.Fatalf("resumed Optimize = %+v, %v; want 3 complete, 3 counted", res, err)
	}
	if trials, err = s2.Trials(ctx); err != nil {
		t.Fatal(err)
	}
	if len(trials) != 4 {
		t.Fatalf("%d trials; want the cut one and 3 complete", len(trials))
	}
	retry := trials[1]
	if retry.RetryOf != 0 || retry.State != tune.Complete || retry.Params["x"] != cut.Params["x"] {
		t.Errorf("trial 1: retry of %d, %s, x %v; want the complete retry of trial 0 with x %v", retry.RetryOf, retry.State, retry.Params["x"], cut.Params["x"])
	}
	for x, n := range ran {
		if n > 1 {
			t.Errorf("x = %s ran %d times in the resumed run", x, n)
		}
	}
}
