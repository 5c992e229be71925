package failover_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/failover"
	"github.com/tabforge/tabforge/store/redis"
)

// hookedPrimary is a real store that calls after once, after the replay
// has read the primary's records (GetRecords): the moment another
// process on Redis acts in TestReplayTakeoverMidway.
type hookedPrimary struct {
	store.Store
	after func()
}

func (h *hookedPrimary) GetRecords(ctx context.Context, kind string, keys []string) ([]*store.Record, error) {
	recs, err := h.Store.GetRecords(ctx, kind, keys)
	if f := h.after; f != nil {
		h.after = nil
		f()
	}
	return recs, err
}

// TestReplayTakeoverMidway: as in TestReplayLeavesNewerHolder, a holder
// carries on on the fallback while Redis is down and its lease there
// lapses; but the successor takes the lease over on Redis, and writes
// the run's outcome, after the replay read the lease (still the stale
// holder's, so not superseded) and before it writes. The replay must
// still leave Redis's lease and run to the successor, and name both as
// conflicts. It used to check the lease it read, then write the stale
// holder's lease and run over the successor's.
func TestReplayTakeoverMidway(t *testing.T) {
	ctx := context.Background()
	srv, fs, la := claimOnRedis(t, store.LeaseKind)
	renewStaleOnFallback(ctx, t, srv, fs, la)

	srv.Restart(t)
	r, err := redis.Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// The stale holder's renewals went to the fallback: on Redis its
	// lease lapses.
	past := time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)
	if err := r.PutRecord(ctx, store.LeaseKind, "run-1", fmt.Appendf(nil, "%s %d", past, la.Token)); err != nil {
		t.Fatal(err)
	}
	var lb *store.Lease
	h := &hookedPrimary{Store: r, after: func() {
		_, lb, err = store.Claim(ctx, r, store.LeaseKind, "run-1", time.Hour, quiet())
		if err != nil {
			t.Fatalf("successor's claim: %v", err)
		}
		if err := r.PutRunFenced(ctx, testRun("run-1", store.Succeeded, "successor"), lb.Fence()); err != nil {
			t.Fatal(err)
		}
	}}
	n, err := failover.Replay(ctx, fs.Fallback(), h)
	if err != nil {
		t.Fatal(err)
	}
	if lb == nil {
		t.Fatal("the replay read no records from redis")
	}
	defer lb.Release()
	for _, c := range []string{"run/run-1", store.LeaseKind + "/run-1"} {
		if !slices.Contains(n.Conflicts, c) {
			t.Errorf("replay conflicts %q; want %s among them", n.Conflicts, c)
		}
	}
	if got, err := r.GetRun(ctx, "run-1"); err != nil || got.Best != "successor" {
		t.Errorf("run on redis after the replay = %+v, %v; want the successor's", got, err)
	}
	if lease, err := r.GetRecord(ctx, store.LeaseKind, "run-1"); err != nil || store.LeaseToken(lease) != lb.Token {
		t.Errorf("lease on redis after the replay = %v, %v; want the successor's, token %d", lease, err, lb.Token)
	}
	if err := lb.Renew(ctx); err != nil {
		t.Errorf("the successor's renewal after the replay: %v", err)
	}
}
