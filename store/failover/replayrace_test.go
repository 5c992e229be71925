package failover_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/failover"
	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/redis/redistest"
)

// hookedPrimary is a real store that calls after once, after the replay
// has read the primary's records (GetRecords): the moment another
// afterOnce calls after once, the first time fire is: a hooked store's
// Trials fires it once the replay has read a study's trials.
type afterOnce struct{ after func() }

func (a *afterOnce) fire() {
	if f := a.after; f != nil {
		a.after = nil
		f()
	}
}

// process on Redis acts in TestReplayTakeoverMidway.
type hookedPrimary struct {
	store.Store
	afterOnce
}

func (h *hookedPrimary) GetRecords(ctx context.Context, kind string, keys []string) ([]*store.Record, error) {
	recs, err := h.Store.GetRecords(ctx, kind, keys)
	h.fire()
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

	r := lapseOnRestart(ctx, t, srv, la)
	var err error
	var lb *store.Lease
	h := &hookedPrimary{Store: r, afterOnce: afterOnce{func() {
		_, lb, err = store.Claim(ctx, r, store.LeaseKind, "run-1", time.Hour, quiet())
		if err != nil {
			t.Fatalf("successor's claim: %v", err)
		}
		if err := r.PutRunFenced(ctx, testRun("run-1", store.Succeeded, "successor"), lb.Fence()); err != nil {
			t.Fatal(err)
		}
	}}}
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

// hookedRedis is hookedPrimary over the Redis store itself, so that the
// replay finds its optional interfaces (store.RecordSwapper) as it does
// on a failover store's primary.
type hookedRedis struct {
	*redis.Store
	afterOnce
}

func (h *hookedRedis) GetRecords(ctx context.Context, kind string, keys []string) ([]*store.Record, error) {
	recs, err := h.Store.GetRecords(ctx, kind, keys)
	h.fire()
	return recs, err
}

// TestReplayWriteMidway: records both stores hold are written and
// deleted on the fallback during an outage; after it, another process
// writes two of them on Redis after the replay read them (as the
// fallback's writes' bases, so no conflict yet) and before it writes.
// Redis must keep that process's values, named as conflicts, while the
// untouched record is copied. The replay used to test what it read,
// then write the fallback's value and delete over the newer ones.
func TestReplayWriteMidway(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	fb := filepath.Join(t.TempDir(), "fallback.db")
	s := openOnRedis(t, srv, fb)
	srv.Kill()
	for _, k := range []string{"put", "del", "other"} {
		if err := s.PutRecord(ctx, "doc", k, []byte("v0")); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	srv.Restart(t)
	s = openOnRedis(t, srv, fb) // replays the first outage: both stores hold v0
	srv.Kill()
	for _, k := range []string{"put", "other"} {
		if err := s.PutRecord(ctx, "doc", k, []byte("outage")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteRecord(ctx, "doc", "del"); err != nil {
		t.Fatal(err)
	}
	s.Close()

	srv.Restart(t)
	s2, err := failover.Open(ctx, srv.URL(), failover.Options{Fallback: fb, Logger: quiet(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	r, err := redis.Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	wrote := false
	h := &hookedRedis{Store: r, afterOnce: afterOnce{func() {
		for _, k := range []string{"put", "del"} {
			if err := r.PutRecord(ctx, "doc", k, []byte("newer")); err != nil {
				t.Fatal(err)
			}
		}
		wrote = true
	}}}
	n, err := failover.Replay(ctx, s2.(*failover.Store).Fallback(), h)
	if err != nil {
		t.Fatal(err)
	}
	if !wrote {
		t.Fatal("the replay read no records from redis")
	}
	slices.Sort(n.Conflicts)
	if want := []string{"doc/del", "doc/put"}; !slices.Equal(n.Conflicts, want) {
		t.Errorf("replay conflicts %q; want %q", n.Conflicts, want)
	}
	for k, want := range map[string]string{"put": "newer", "del": "newer", "other": "outage"} {
		if got, err := r.GetRecord(ctx, "doc", k); err != nil || string(got.Value) != want {
			t.Errorf("doc/%s on redis after the replay = %v, %v; want %q", k, got, err, want)
		}
	}
	if left, _ := s2.(*failover.Store).Fallback().PendingWrites(ctx); len(left) != 0 {
		t.Errorf("%d journal entries left after the replay", len(left))
	}
}
