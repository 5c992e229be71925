package failover_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/failover"
	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/redis/redistest"
)

// TestLeaseSurvivesRedisKill claims a lease on a failover store, kills
// redis-server, and renews it on the fallback: the holder is still the
// holder (train carries on when Redis dies mid-run), while a lease it
// never wrote stays refused there. After a restart the replay puts the
// renewed lease in Redis, over the value the holder wrote before the kill.
func TestLeaseSurvivesRedisKill(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	fb := filepath.Join(t.TempDir(), "fallback.db")
	s := openOnRedis(t, srv, fb)
	fs := s.(*failover.Store)
	lctx, l, err := store.Claim(ctx, fs, store.LeaseKind, "run-1", time.Hour, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	// A later acquisition (a run's tuning study) moves the token counter
	// past the run's: a lease found missing after that reads as lost, so
	// the holder's own lease must be found on the fallback, not missing.
	_, study, err := store.Claim(ctx, fs, store.ClaimKind, "study/s", time.Hour, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer study.Release()
	srv.Kill()
	for i := range 2 { // the first renewal finds the fallback without the lease, the second with it
		if err := l.Renew(ctx); err != nil {
			t.Fatalf("renewal %d after the kill: %v", i+1, err)
		}
	}
	if lctx.Err() != nil || !fs.Down() {
		t.Fatalf("holder's context %v, store down %v; want a live holder on the fallback", context.Cause(lctx), fs.Down())
	}
	if ok, err := fs.SwapRecord(ctx, store.LeaseKind, "run-2", []byte("never written"), []byte("x")); err != nil || ok {
		t.Errorf("swap over a record this process never wrote = %v, %v; want false", ok, err)
	}
	held, err := fs.GetRecord(ctx, store.LeaseKind, "run-1")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	srv.Restart(t) // replays the journal at open
	s2 := openOnRedis(t, srv, fb)
	defer s2.Close()
	r, err := redis.Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := r.GetRecord(ctx, store.LeaseKind, "run-1")
	if err != nil || string(got.Value) != string(held.Value) {
		t.Errorf("lease in redis after replay = %v, %v; want the renewal %q", got, err, held.Value)
	}
}

// TestFencedSwapOnFallback claims a lease on a failover store, kills
// redis-server and publishes under the lease on the fallback, which never
// saw it: the lease this process wrote is still its own there, so the
// swap is made, while a fence of a lease it never wrote is refused.
func TestFencedSwapOnFallback(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	s := openOnRedis(t, srv, filepath.Join(t.TempDir(), "fallback.db"))
	defer s.Close()
	fs := s.(*failover.Store)
	_, l, err := store.Claim(ctx, fs, store.ClaimKind, "publish", time.Hour, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	srv.Kill()
	if ok, err := fs.SwapRecordFenced(ctx, "pub", "a", nil, []byte("v1"), l.Fence()); err != nil || !ok || !fs.Down() {
		t.Fatalf("fenced create on the fallback = %v, %v (down %v); want created under the holder's own lease", ok, err, fs.Down())
	}
	never := store.Fence{Kind: store.ClaimKind, Key: "never", Token: l.Token}
	_, err = fs.SwapRecordFenced(ctx, "pub", "b", nil, []byte("v1"), never)
	if !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("fenced create under a lease this process never wrote = %v; want store.ErrLeaseLost", err)
	}
}

// TestReleaseOnFallback claims a lease on a failover store and kills
// redis-server: the holder's release goes to the fallback, which never
// saw the lease. The lease this process wrote on Redis is still its own
// there, so the release is journalled, and after a restart the replay
// removes the lease from Redis; a release under a token this process
// never wrote journals nothing.
func TestReleaseOnFallback(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	fb := filepath.Join(t.TempDir(), "fallback.db")
	s := openOnRedis(t, srv, fb)
	fs := s.(*failover.Store)
	_, l, err := store.Claim(ctx, fs, store.LeaseKind, "run-1", time.Hour, quiet())
	if err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	never := store.Fence{Kind: store.LeaseKind, Key: "run-1", Token: l.Token + 1}
	if err := fs.DeleteRecordFenced(ctx, store.LeaseKind, "run-1", never); !errors.Is(err, store.ErrLeaseLost) || !fs.Down() {
		t.Errorf("release under a token never written, on the fallback = %v (down %v); want store.ErrLeaseLost", err, fs.Down())
	}
	if pend, err := fs.Fallback().PendingWrites(ctx); err != nil || len(pend) != 0 {
		t.Errorf("journal after a refused release = %+v, %v; want it empty", pend, err)
	}
	l.Release()
	pend, err := fs.Fallback().PendingWrites(ctx)
	if err != nil || len(pend) != 1 || pend[0].A != store.LeaseKind || pend[0].B != "run-1" {
		t.Fatalf("journal after the release = %+v, %v; want the lease", pend, err)
	}
	s.Close()

	srv.Restart(t)
	s2 := openOnRedis(t, srv, fb) // replays the journal at open
	defer s2.Close()
	if r, err := s2.(*failover.Store).Primary().GetRecord(ctx, store.LeaseKind, "run-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("lease on redis after the replay of its release = %v, %v; want none", r, err)
	}
}

// TestReleasedOnRedisStaysReleased claims a lease on a failover store and
// removes it on Redis (a fenced delete, as Lease.Release and gc make, or
// a plain one), then kills redis-server: on the fallback, the removed
// lease's fence is refused as it is on Redis, and a release after (gc's
// deferred one) journals nothing, so the replay after the restart
// reports no conflict. The store used to keep the lease as what this
// process last wrote on Redis: the fallback took the fence as the
// holder's own, accepted the run written under it, and journalled the
// release as a removal of a lease Redis no longer held, which the replay
// named a conflict.
func TestReleasedOnRedisStaysReleased(t *testing.T) {
	deletes := map[string]func(context.Context, store.Store, store.Fence) error{
		"fenced": func(ctx context.Context, s store.Store, f store.Fence) error {
			return store.DeleteRecordFenced(ctx, s, f.Kind, f.Key, f)
		},
		"plain": func(ctx context.Context, s store.Store, f store.Fence) error {
			return s.DeleteRecord(ctx, f.Kind, f.Key)
		},
		"batch": func(ctx context.Context, s store.Store, f store.Fence) error {
			return s.DeleteRecords(ctx, f.Kind, []string{f.Key})
		},
	}
	for name, del := range deletes {
		t.Run(name, func(t *testing.T) { testReleasedOnRedis(t, del) })
	}
}

func testReleasedOnRedis(t *testing.T, del func(context.Context, store.Store, store.Fence) error) {
	ctx := context.Background()
	srv := redistest.Start(t)
	fb := filepath.Join(t.TempDir(), "fallback.db")
	s := openOnRedis(t, srv, fb)
	fs := s.(*failover.Store)
	_, l, err := store.Claim(ctx, fs, store.LeaseKind, "run-1", time.Hour, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if err := del(ctx, fs, l.Fence()); err != nil || fs.Down() {
		t.Fatalf("removal on redis = %v (down %v)", err, fs.Down())
	}
	srv.Kill()
	err = fs.PutRunFenced(ctx, testRun("run-1", store.Succeeded, "stale"), l.Fence())
	if !errors.Is(err, store.ErrLeaseLost) || !fs.Down() {
		t.Errorf("run written on the fallback under the released lease = %v (down %v); want store.ErrLeaseLost", err, fs.Down())
	}
	l.Release()
	if pend, err := fs.Fallback().PendingWrites(ctx); err != nil || len(pend) != 0 {
		t.Errorf("journal after writes under a released lease = %+v, %v; want it empty", pend, err)
	}
	s.Close()

	srv.Restart(t)
	fb2, err := failover.Open(ctx, srv.URL(), failover.Options{Fallback: fb, Logger: quiet(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer fb2.Close()
	n, err := fb2.(*failover.Store).Sync(ctx)
	if err != nil || len(n.Conflicts) != 0 {
		t.Errorf("replay = %+v, %v; want no conflicts", n, err)
	}
}
