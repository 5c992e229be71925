package failover_test

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/failover"
	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/redis/redistest"
	"github.com/tabforge/tabforge/store/sqlite"
	"github.com/tabforge/tabforge/tune"
)

// hookedTrials is the Redis store, calling after once after the replay
// has read a study's trials there. (The store is embedded as its
// concrete type: embedding store.Store would hide the optional swapper
// interfaces the replay looks for.)
type hookedTrials struct {
	*redis.Store
	afterOnce
}

func (h *hookedTrials) Trials(ctx context.Context, studyID int64) ([]tune.FrozenTrial, error) {
	trials, err := h.Store.Trials(ctx, studyID)
	h.fire()
	return trials, err
}

// TestReplayKeepsOthersTrial: a tuning process has trial 0 running on
// Redis when redis-server is killed; on the fallback it finishes trial 0
// and runs trial 1. Meanwhile another process, on Redis alone once it is
// back, runs its own trial 1 of the same study, before the replay or
// after the replay read Redis's trials. The replay must copy trial 0's
// outcome and leave Redis's trial 1 to the other process, naming the
// fallback's as a conflict. It used to write the fallback's trial 1 over
// the other process's.
func TestReplayKeepsOthersTrial(t *testing.T) {
	for _, midway := range []bool{false, true} {
		name := "before the replay"
		if midway {
			name = "during the replay"
		}
		t.Run(name, func(t *testing.T) { testReplayKeepsOthersTrial(t, midway) })
	}
}

func testReplayKeepsOthersTrial(t *testing.T, midway bool) {
	ctx := context.Background()
	srv := redistest.Start(t)
	fb := filepath.Join(t.TempDir(), "fallback.db")
	s := openOnRedis(t, srv, fb)
	defer s.Close()
	fs := s.(*failover.Store)
	d := tune.Distribution{Kind: tune.Float, Low: 0, High: 1}
	sid, err := fs.CreateStudy(ctx, "s", tune.Minimize)
	if err != nil {
		t.Fatal(err)
	}
	runTrial := func(st tune.Storage, sid int64, x, value float64) int {
		t.Helper()
		id, n, err := st.CreateTrial(ctx, sid, tune.FrozenTrial{State: tune.Running, RetryOf: -1})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.SetTrialParam(ctx, id, "x", d, x); err != nil {
			t.Fatal(err)
		}
		if err := st.FinishTrial(ctx, id, tune.Complete, value, ""); err != nil {
			t.Fatal(err)
		}
		return n
	}
	id0, _, err := fs.CreateTrial(ctx, sid, tune.FrozenTrial{State: tune.Running, RetryOf: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.SetTrialParam(ctx, id0, "x", d, 0.5); err != nil {
		t.Fatal(err)
	}

	srv.Kill()
	if err := fs.FinishTrial(ctx, id0, tune.Complete, 1, ""); err != nil || !fs.Down() {
		t.Fatalf("finish on the fallback: %v (down %v)", err, fs.Down())
	}
	if n := runTrial(fs, sid, 0.7, 2); n != 1 {
		t.Fatalf("the fallback numbered its trial %d; want 1", n)
	}

	srv.Restart(t)
	other, err := redis.Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	studies, err := other.ListStudies(ctx)
	if err != nil || len(studies) != 1 {
		t.Fatalf("studies on redis = %v, %v", studies, err)
	}
	others := func() {
		if n := runTrial(other, studies[0].ID, 0.9, 3); n != 1 {
			t.Fatalf("redis numbered the other process's trial %d; want 1", n)
		}
	}
	h := &hookedTrials{Store: other}
	if midway {
		h.after = others
	} else {
		others()
	}
	n, err := failover.Replay(ctx, fs.Fallback(), h)
	if err != nil {
		t.Fatal(err)
	}
	if h.after != nil {
		t.Fatal("the replay read no trials from redis")
	}
	if !slices.Equal(n.Conflicts, []string{"trial/s/1"}) || n.Trials != 1 {
		t.Errorf("replay = %+v; want trial 0 copied and trial/s/1 as the only conflict", n)
	}
	trials, err := other.Trials(ctx, studies[0].ID)
	if err != nil || len(trials) != 2 {
		t.Fatalf("trials on redis after the replay = %+v, %v; want 2", trials, err)
	}
	for i, want := range []float64{1, 3} {
		if got := trials[i]; got.Number != i || got.State != tune.Complete || got.Value != want {
			t.Errorf("trial %d on redis after the replay = %+v; want complete with value %g", i, got, want)
		}
	}
}

// hookedSQLiteTrials is hookedTrials over an SQLite primary.
type hookedSQLiteTrials struct {
	*sqlite.Store
	afterOnce
}

func (h *hookedSQLiteTrials) Trials(ctx context.Context, studyID int64) ([]tune.FrozenTrial, error) {
	trials, err := h.Store.Trials(ctx, studyID)
	h.fire()
	return trials, err
}

// TestReplayTrialUpdateMidway: a tuning process has trial 0 running on
// Redis when redis-server is killed, and finishes it on the fallback.
// After the replay read the primary's trials (trial 0 still running,
// the state the fallback's outcome was written over), another process
// fails trial 0 there as interrupted. On Redis, and on an SQLite
// primary holding the same trial, the replay must keep that process's
// state and name trial 0 a conflict. It used to check the state it
// read, then write the fallback's outcome over the newer one.
func TestReplayTrialUpdateMidway(t *testing.T) {
	for _, primary := range []string{"redis", "sqlite"} {
		t.Run(primary, func(t *testing.T) { testReplayTrialUpdateMidway(t, primary) })
	}
}

func testReplayTrialUpdateMidway(t *testing.T, primary string) {
	ctx := context.Background()
	srv := redistest.Start(t)
	dir := t.TempDir()
	s := openOnRedis(t, srv, filepath.Join(dir, "fallback.db"))
	defer s.Close()
	fs := s.(*failover.Store)
	d := tune.Distribution{Kind: tune.Float, Low: 0, High: 1}
	sid, err := fs.CreateStudy(ctx, "s", tune.Minimize)
	if err != nil {
		t.Fatal(err)
	}
	id0, _, err := fs.CreateTrial(ctx, sid, tune.FrozenTrial{State: tune.Running, RetryOf: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.SetTrialParam(ctx, id0, "x", d, 0.5); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	if err := fs.FinishTrial(ctx, id0, tune.Complete, 1, ""); err != nil || !fs.Down() {
		t.Fatalf("finish on the fallback: %v (down %v)", err, fs.Down())
	}

	var target, prim store.Store // the primary with the hook, and without
	failed := false
	fail := func() { failFirst(ctx, t, prim); failed = true }
	switch primary {
	case "redis":
		srv.Restart(t)
		r, err := redis.Open(ctx, srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		target, prim = &hookedTrials{Store: r, afterOnce: afterOnce{fail}}, r
	case "sqlite":
		p, err := sqlite.Open(ctx, filepath.Join(dir, "primary.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if _, err := p.PutStudy(ctx, store.Study{Name: "s", Direction: tune.Minimize}); err != nil {
			t.Fatal(err)
		}
		running := tune.FrozenTrial{Number: 0, State: tune.Running, Value: math.NaN(), RetryOf: -1,
			Params: map[string]float64{"x": 0.5}, Distributions: map[string]tune.Distribution{"x": d}}
		if err := p.PutTrial(ctx, "s", running); err != nil {
			t.Fatal(err)
		}
		target, prim = &hookedSQLiteTrials{Store: p, afterOnce: afterOnce{fail}}, p
	}
	n, err := failover.Replay(ctx, fs.Fallback(), target)
	if err != nil {
		t.Fatal(err)
	}
	if !failed {
		t.Fatal("the replay read no trials from the primary")
	}
	if !slices.Equal(n.Conflicts, []string{"trial/s/0"}) || n.Trials != 0 {
		t.Errorf("replay = %+v; want trial/s/0 as the only conflict and no trial copied", n)
	}
	if tr := firstTrial(ctx, t, prim); tr.State != tune.Fail {
		t.Errorf("trial 0 on the primary after the replay = %+v; want the other process's failure", tr)
	}
}

// firstTrial returns trial 0 of the one study in s.
func firstTrial(ctx context.Context, t *testing.T, s store.Store) tune.FrozenTrial {
	t.Helper()
	studies, err := s.ListStudies(ctx)
	if err != nil || len(studies) != 1 {
		t.Fatalf("studies on the primary = %v, %v; want 1", studies, err)
	}
	trials, err := s.Trials(ctx, studies[0].ID)
	if err != nil || len(trials) != 1 || trials[0].Number != 0 {
		t.Fatalf("trials on the primary = %+v, %v; want trial 0 alone", trials, err)
	}
	return trials[0]
}

// failFirst fails trial 0 of the one study in s as interrupted, as
// another process that found it stale would.
func failFirst(ctx context.Context, t *testing.T, s store.Store) {
	t.Helper()
	if err := s.FinishTrial(ctx, firstTrial(ctx, t, s).ID, tune.Fail, math.NaN(), "interrupted"); err != nil {
		t.Fatal(err)
	}
}
