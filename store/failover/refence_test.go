package failover_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/failover"
)

// TestReplayLeavesNewerHolder: a run holds its lease on Redis when
// redis-server is killed; it carries on on the fallback, writes its
// outcome there under its lease and releases it. Meanwhile Redis comes
// back and a successor, working on Redis alone, takes the lapsed lease
// over and writes the run's outcome. The replay must leave Redis's run
// and lease to the successor, whether it still holds the lease or has
// released it, and name both as conflicts. It used to copy the stale
// holder's run over the successor's and delete the successor's lease.
// A run begun and finished on the fallback during the outage is still
// replayed.
func TestReplayLeavesNewerHolder(t *testing.T) {
	for _, released := range []bool{false, true} {
		t.Run(fmt.Sprint("successor released ", released), func(t *testing.T) {
			testReplayLeavesNewerHolder(t, released)
		})
	}
}

func testReplayLeavesNewerHolder(t *testing.T, released bool) {
	ctx := context.Background()
	srv, fs, la := claimOnRedis(t, store.LeaseKind)
	renewStaleOnFallback(ctx, t, srv, fs, la)
	la.Release()
	// A run begun and finished during the outage has no lease on Redis.
	_, lo, err := store.Claim(ctx, fs, store.LeaseKind, "run-2", time.Hour, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.PutRunFenced(ctx, testRun("run-2", store.Succeeded, "outage"), lo.Fence()); err != nil {
		t.Fatal(err)
	}
	lo.Release()

	r := lapseOnRestart(ctx, t, srv, la) // the successor takes it over
	_, lb, err := store.Claim(ctx, r, store.LeaseKind, "run-1", time.Hour, quiet())
	if err != nil {
		t.Fatalf("successor's claim: %v", err)
	}
	defer lb.Release()
	if err := r.PutRunFenced(ctx, testRun("run-1", store.Succeeded, "successor"), lb.Fence()); err != nil {
		t.Fatal(err)
	}
	if released {
		lb.Release()
	}

	n, err := failover.Replay(ctx, fs.Fallback(), r)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"run/run-1", store.LeaseKind + "/run-1"} {
		if !slices.Contains(n.Conflicts, c) {
			t.Errorf("replay conflicts %q; want %s among them", n.Conflicts, c)
		}
	}
	if got, err := r.GetRun(ctx, "run-1"); err != nil || got.Best != "successor" {
		t.Errorf("run on redis after the replay = %+v, %v; want the successor's", got, err)
	}
	lease, err := r.GetRecord(ctx, store.LeaseKind, "run-1")
	switch {
	case released && err == nil:
		t.Errorf("lease on redis after the replay = %q; want none, as the successor released it", lease.Value)
	case !released && (err != nil || store.LeaseToken(lease) != lb.Token):
		t.Errorf("lease on redis after the replay = %v, %v; want the successor's, token %d", lease, err, lb.Token)
	}
	if got, err := r.GetRun(ctx, "run-2"); err != nil || got.Best != "outage" || n.Runs != 1 {
		t.Errorf("run made during the outage, on redis after the replay = %+v, %v (%d runs counted); want it copied, and counted alone", got, err, n.Runs)
	}
}

func testRun(id string, status store.Status, best string) *store.Run {
	return &store.Run{ID: id, Created: time.Now().UTC(), Status: status, Best: best, Config: json.RawMessage(`{}`)}
}
