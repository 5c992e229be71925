package failover_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/failover"
	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/redis/redistest"
	"github.com/tabforge/tabforge/store/sqlite"
)

// TestReplayAfterRedisLostData: a run holds its lease on Redis, and a
// record it created there, when redis-server is killed; it carries on
// on the fallback (renews the lease, swaps the record, writes its
// outcome) and writes a new record. Redis comes back with its data, or
// without it (its files gone, or flushed), and another process writes
// the new record's key there first. Whether Redis kept its data or not,
// the replay must copy the run, its lease and the swapped record, and
// keep only the other process's record as a conflict. With Redis's data
// lost it used to read the lease and record missing there as removed by
// another process, keeping nothing and naming them all as conflicts.
func TestReplayAfterRedisLostData(t *testing.T) {
	for _, c := range []struct {
		name    string
		restart func(*testing.T, *redistest.Server)
		lost    bool
	}{
		{"kept", func(t *testing.T, srv *redistest.Server) { srv.Restart(t) }, false},
		{"restarted empty", func(t *testing.T, srv *redistest.Server) { srv.RestartEmpty(t) }, true},
		{"flushed", func(t *testing.T, srv *redistest.Server) {
			srv.Restart(t)
			flushAll(t, srv)
		}, true},
	} {
		t.Run(c.name, func(t *testing.T) { testReplayAfterRedisLost(t, c.restart, c.lost) })
	}
}

func testReplayAfterRedisLost(t *testing.T, restart func(*testing.T, *redistest.Server), lost bool) {
	ctx := context.Background()
	srv := redistest.Start(t)
	fb := filepath.Join(t.TempDir(), "fallback.db")
	s := openOnRedis(t, srv, fb)
	defer s.Close()
	fs := s.(*failover.Store)
	_, la, err := store.Claim(ctx, fs, store.LeaseKind, "run-1", time.Hour, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer la.Release()
	if err := fs.PutRunFenced(ctx, testRun("run-1", store.Running, ""), la.Fence()); err != nil {
		t.Fatal(err)
	}
	if ok, err := fs.CreateRecord(ctx, "model", "m", []byte("v1")); err != nil || !ok {
		t.Fatalf("create on redis = %v, %v", ok, err)
	}

	srv.Kill()
	if err := la.Renew(ctx); err != nil {
		t.Fatalf("renewal on the fallback: %v", err)
	}
	if err := fs.PutRunFenced(ctx, testRun("run-1", store.Succeeded, "outage"), la.Fence()); err != nil || !fs.Down() {
		t.Fatalf("outcome on the fallback: %v (down %v)", err, fs.Down())
	}
	if ok, err := fs.SwapRecord(ctx, "model", "m", []byte("v1"), []byte("v2")); err != nil || !ok {
		t.Fatalf("swap on the fallback = %v, %v; want made over the value this process wrote on redis", ok, err)
	}
	if err := fs.PutRecord(ctx, "ev", "x", []byte("fallback")); err != nil {
		t.Fatal(err)
	}
	lease, err := fs.GetRecord(ctx, store.LeaseKind, "run-1")
	if err != nil {
		t.Fatal(err)
	}

	restart(t, srv)
	other, err := redis.Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.PutRecord(ctx, "ev", "x", []byte("redis")); err != nil {
		t.Fatal(err)
	}
	s2, err := failover.Open(ctx, srv.URL(), failover.Options{Fallback: fb, Logger: quiet(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	n, err := s2.(*failover.Store).Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n.PrimaryLost != lost || !slices.Equal(n.Conflicts, []string{"ev/x"}) || n.Runs != 1 {
		t.Errorf("replay = %+v; want PrimaryLost %v, 1 run and only ev/x as a conflict", n, lost)
	}
	if got, err := other.GetRun(ctx, "run-1"); err != nil || got.Best != "outage" {
		t.Errorf("run on redis after the replay = %+v, %v; want the fallback's outcome", got, err)
	}
	for _, want := range []*store.Record{{Kind: store.LeaseKind, Key: "run-1", Value: lease.Value},
		{Kind: "model", Key: "m", Value: []byte("v2")}, {Kind: "ev", Key: "x", Value: []byte("redis")}} {
		if got, err := other.GetRecord(ctx, want.Kind, want.Key); err != nil || string(got.Value) != string(want.Value) {
			t.Errorf("%s/%s on redis after the replay = %v, %v; want %q", want.Kind, want.Key, got, err, want.Value)
		}
	}
	if tok, err := store.LastToken(ctx, other); err != nil || tok < la.Token {
		t.Errorf("redis's last token after the replay = %d, %v; want at least the lease's, %d", tok, err, la.Token)
	}
}

// outcomeOnFallback kills Redis under la's run-1 and writes run, its
// outcome, on the fallback alone.
func outcomeOnFallback(ctx context.Context, t *testing.T, srv *redistest.Server, fs *failover.Store, la *store.Lease, run *store.Run) {
	t.Helper()
	srv.Kill()
	if err := fs.PutRunFenced(ctx, run, la.Fence()); err != nil || !fs.Down() {
		t.Fatalf("outcome on the fallback: %v (down %v)", err, fs.Down())
	}
}

// flushAll empties every database of srv.
func flushAll(t *testing.T, srv *redistest.Server) {
	t.Helper()
	r, err := redis.Open(context.Background(), srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Do(context.Background(), "FLUSHALL"); err != nil {
		t.Fatal(err)
	}
}

// TestReplayAfterLossLeavesNewHolder: as in TestReplayAfterRedisLostData
// Redis comes back empty, but another process takes the run's lease
// there and writes the run, before the replay or after it read the
// run's lease (missing, so the run was to be copied). Redis's token
// counter started again, so the new holder's token is no greater than
// the fallback's (here the same): only the lease's value tells it from
// the fallback's own. The replay must leave the new holder's lease and
// run. Midway it used to write the fallback's run over the new holder's.
func TestReplayAfterLossLeavesNewHolder(t *testing.T) {
	for _, midway := range []bool{false, true} {
		name := "before the replay"
		if midway {
			name = "during the replay"
		}
		t.Run(name, func(t *testing.T) { testReplayAfterLossLeavesNewHolder(t, midway) })
	}
}

func testReplayAfterLossLeavesNewHolder(t *testing.T, midway bool) {
	ctx := context.Background()
	srv, fs, la := claimOnRedis(t, store.LeaseKind)
	outcomeOnFallback(ctx, t, srv, fs, la, testRun("run-1", store.Succeeded, "outage"))

	srv.RestartEmpty(t)
	other, err := redis.Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var lb *store.Lease
	takeOver := func() {
		if _, lb, err = store.Claim(ctx, other, store.LeaseKind, "run-1", time.Hour, quiet()); err != nil {
			t.Fatal(err)
		}
		// The replay raises the token counter before it reads: midway
		// the new holder's token is above the fallback's.
		if !midway && lb.Token > la.Token {
			t.Fatalf("new holder's token %d after the loss; want it no greater than the fallback's %d", lb.Token, la.Token)
		}
		if err := other.PutRunFenced(ctx, testRun("run-1", store.Succeeded, "new holder"), lb.Fence()); err != nil {
			t.Fatal(err)
		}
	}
	h := &hookedRedis{Store: other}
	if midway {
		h.after = takeOver
	} else {
		takeOver()
	}
	n, err := replayOwed(ctx, fs.Fallback(), h)
	if err != nil {
		t.Fatal(err)
	}
	if lb == nil {
		t.Fatal("the replay read no records from redis")
	}
	defer lb.Release()
	if !n.PrimaryLost || !slices.Contains(n.Conflicts, "run/run-1") {
		t.Errorf("replay = %+v; want PrimaryLost and run/run-1 as a conflict", n)
	}
	if got, err := other.GetRun(ctx, "run-1"); err != nil || got.Best != "new holder" {
		t.Errorf("run on redis after the replay = %+v, %v; want the new holder's", got, err)
	}
	if err := lb.Renew(ctx); err != nil {
		t.Errorf("the new holder's renewal after the replay: %v", err)
	}
}

// TestReplayAfterLossFindsOwnRun: Redis comes back empty, and the
// fallback's run is on it already, as an earlier replay cut short after
// copying it leaves it. The replay must count the run as copied, not as
// another process's (a conflict).
func TestReplayAfterLossFindsOwnRun(t *testing.T) {
	ctx := context.Background()
	srv, fs, la := claimOnRedis(t, store.LeaseKind)
	run := testRun("run-1", store.Succeeded, "outage")
	run.Config = json.RawMessage(`{"rounds": 3}`) // spaced: Redis keeps it compacted
	outcomeOnFallback(ctx, t, srv, fs, la, run)

	srv.RestartEmpty(t)
	other, err := redis.Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	own, err := fs.Fallback().GetRun(ctx, "run-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.PutRun(ctx, own); err != nil {
		t.Fatal(err)
	}
	n, err := replayOwed(ctx, fs.Fallback(), other)
	if err != nil {
		t.Fatal(err)
	}
	if !n.PrimaryLost || len(n.Conflicts) != 0 || n.Runs != 1 {
		t.Errorf("replay = %+v; want PrimaryLost, the run copied and no conflict", n)
	}
}

// replayOwed replays the journal of fallback, whose entries are all owed
// to one Redis, to primary, as Sync does: with the epoch check of that
// target (see failover.ReplayTo).
func replayOwed(ctx context.Context, fallback *sqlite.Store, primary store.Store) (failover.SyncCounts, error) {
	pending, err := fallback.PendingWrites(ctx)
	if err != nil || len(pending) == 0 {
		return failover.SyncCounts{}, fmt.Errorf("journal: %d entries, %v", len(pending), err)
	}
	return failover.ReplayTo(ctx, fallback, primary, pending[0].Target)
}
