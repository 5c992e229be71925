package failover_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/failover"
	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/redis/redistest"
	"github.com/tabforge/tabforge/store/storetest"
	"github.com/tabforge/tabforge/tune"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)) }

// openOnRedis opens a failover store over srv with its fallback file fb.
func openOnRedis(t *testing.T, srv *redistest.Server, fb string) store.Store {
	t.Helper()
	s, err := failover.Open(context.Background(), srv.URL(), failover.Options{Fallback: fb, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// claimOnRedis starts a redis-server, opens a failover store on it (its
// fallback in a temporary file) and claims kind/run-1 through it; the
// lease is released and the store closed when the test ends.
func claimOnRedis(t *testing.T, kind string) (*redistest.Server, *failover.Store, *store.Lease) {
	t.Helper()
	srv := redistest.Start(t)
	s := openOnRedis(t, srv, filepath.Join(t.TempDir(), "fallback.db"))
	t.Cleanup(func() { s.Close() })
	_, l, err := store.Claim(context.Background(), s, kind, "run-1", time.Hour, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Release)
	return srv, s.(*failover.Store), l
}

// renewStaleOnFallback kills Redis under a run-1 whose holder la wrote it
// as running there, and carries on on the fallback: la's renewal and
// its outcome "stale" go to the fallback alone.
func renewStaleOnFallback(ctx context.Context, t *testing.T, srv *redistest.Server, fs *failover.Store, la *store.Lease) {
	t.Helper()
	if err := fs.PutRunFenced(ctx, testRun("run-1", store.Running, ""), la.Fence()); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	if err := la.Renew(ctx); err != nil {
		t.Fatalf("renewal on the fallback: %v", err)
	}
	if err := fs.PutRunFenced(ctx, testRun("run-1", store.Succeeded, "stale"), la.Fence()); err != nil || !fs.Down() {
		t.Fatalf("outcome on the fallback: %v (down %v)", err, fs.Down())
	}
}

// lapseOnRestart restarts Redis after renewStaleOnFallback and opens it
// directly, with la's lease there lapsed: the stale holder's renewals
// went to the fallback, so on Redis a successor may take the lease over.
func lapseOnRestart(ctx context.Context, t *testing.T, srv *redistest.Server, la *store.Lease) *redis.Store {
	t.Helper()
	srv.Restart(t)
	r, err := redis.Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	past := time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)
	if err := r.PutRecord(ctx, store.LeaseKind, "run-1", fmt.Appendf(nil, "%s %d", past, la.Token)); err != nil {
		t.Fatal(err)
	}
	return r
}

// deadURL is a Redis URL nothing listens on.
func deadURL(t *testing.T) string {
	return "redis://127.0.0.1:1/0"
}

func TestConformanceRedisUp(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func() (store.Store, error) {
		url := redistest.URL(t)
		fb := filepath.Join(t.TempDir(), "fallback.db")
		return func() (store.Store, error) {
			return failover.Open(context.Background(), url, failover.Options{Fallback: fb, Logger: quiet()})
		}
	})
}

func TestConformanceRedisDown(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func() (store.Store, error) {
		fb := filepath.Join(t.TempDir(), "fallback.db")
		return func() (store.Store, error) {
			s, err := failover.Open(context.Background(), deadURL(t), failover.Options{Fallback: fb, Logger: quiet()})
			if err == nil && !s.(*failover.Store).Down() {
				t.Error("store on a dead URL is not down")
			}
			return s, err
		}
	})
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	fb := filepath.Join(t.TempDir(), "fb.db")
	var logs bytes.Buffer
	s, err := failover.Open(ctx, deadURL(t), failover.Options{Fallback: fb, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "redis is unreachable") || !strings.Contains(logs.String(), "fb.db") {
		t.Errorf("no failover warning: %q", logs.String())
	}
	if err := s.PutRun(ctx, &store.Run{ID: "r1", Created: time.Now(), Status: store.Running, Config: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	pend, err := s.(*failover.Store).Fallback().PendingWrites(ctx)
	if err != nil || len(pend) != 1 || pend[0].A != "r1" {
		t.Errorf("journal = %v, %v; want the run", pend, err)
	}
	s.Close()

	if _, err := failover.Open(ctx, deadURL(t), failover.Options{Fallback: fb, NoFallback: true}); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("NoFallback on a dead server: %v; want ErrUnavailable", err)
	}
	// Without a fallback, an unreachable Redis creates no fallback file.
	unused := filepath.Join(t.TempDir(), "sub", "unused.db")
	if _, err := failover.Open(ctx, deadURL(t), failover.Options{Fallback: unused, NoFallback: true}); err == nil {
		t.Error("NoFallback on a dead server opened a store")
	}
	if _, err := os.Stat(unused); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("NoFallback on a dead server left %s behind (stat: %v)", unused, err)
	}
	srv := redistest.Start(t)
	c, err := redis.Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(ctx, "CONFIG", "SET", "requirepass", "sesame"); err != nil {
		t.Fatal(err)
	}
	c.Close()
	wrong := "redis://:nope@" + srv.Addr + "/0"
	_, err = failover.Open(ctx, wrong, failover.Options{Fallback: fb, NoFallback: true})
	if err == nil || !strings.Contains(err.Error(), "authentication failed") || strings.Contains(err.Error(), "nope") {
		t.Errorf("wrong password: %v; want a clear error without the password", err)
	}
	good, err := failover.Open(ctx, "redis://:sesame@"+srv.Addr+"/0", failover.Options{Fallback: fb, NoFallback: true, Logger: quiet()})
	if err != nil {
		t.Fatalf("right password: %v", err)
	}
	// The journalled run is owed to the dead server, not to this one:
	// opening another Redis with the same fallback file leaves it pending.
	if _, err := good.(*failover.Store).Primary().GetRun(ctx, "r1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a run journalled for %s was replayed into %s (err %v)", deadURL(t), srv.Addr, err)
	}
	if pend, err := good.(*failover.Store).Fallback().PendingWrites(ctx); err != nil || len(pend) != 1 {
		t.Errorf("journal after opening another redis = %v, %v; want the run still pending", pend, err)
	}
	if strings.Contains(good.URL(), "sesame") {
		t.Errorf("URL() shows the password: %s", good.URL())
	}
	good.Close()
	for _, bad := range []string{"redis://127.0.0.1:6379/x", "redis://127.0.0.1:6379/0?cache_ttl=soon", "postgres://db", "redis://127.0.0.1:6379/0?bogus=1"} {
		if _, err := failover.Open(ctx, bad, failover.Options{Fallback: fb}); err == nil || errors.Is(err, store.ErrUnavailable) {
			t.Errorf("Open(%q) err = %v; want a URL error", bad, err)
		}
	}
}

// TestKillRedisMidStudy runs a tuning study, runs and cache records on a
// failover store, kills redis-server with SIGKILL part-way, finishes on
// the fallback, restarts Redis on its AOF and checks that after the
// automatic replay Redis holds everything exactly once.
func TestKillRedisMidStudy(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	fb := filepath.Join(t.TempDir(), "fallback.db")
	s := openOnRedis(t, srv, fb)
	fs := s.(*failover.Store)
	const budget, killAt = 16, 7
	var calls atomic.Int32
	obj := func(ctx context.Context, tr *tune.Trial) (float64, error) {
		x := tr.SuggestFloat("x", -2, 2, false)
		n := calls.Add(1)
		if n == killAt {
			srv.Kill()
		}
		tr.Report(x*x+1, 0)
		id := fmt.Sprintf("run-%02d", n)
		if err := s.PutRun(ctx, &store.Run{ID: id, Created: time.Now(), Status: store.Succeeded, Config: json.RawMessage(`{}`)}); err != nil {
			return 0, err
		}
		if err := s.PutRecord(ctx, store.CacheKind, id, []byte(id)); err != nil {
			return 0, err
		}
		return x * x, nil
	}
	st, err := tune.NewStudy(ctx, "kill", tune.Config{Storage: s, Sampler: tune.TPESampler{StartupTrials: 4}, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Optimize(ctx, obj, tune.Budget{MaxTrials: budget})
	if err != nil {
		t.Fatalf("study did not survive the kill: %v", err)
	}
	if res.Complete != budget || !fs.Down() {
		t.Fatalf("result %+v, down %v; want %d complete on the fallback", res, fs.Down(), budget)
	}
	pend, _ := fs.Fallback().PendingWrites(ctx)
	t.Logf("killed redis at trial %d; %d journal entries", killAt, len(pend))
	if len(pend) == 0 {
		t.Fatal("nothing was journalled")
	}
	s.Close()

	srv.Restart(t) // same port and dir: redis reloads its AOF
	s2 := openOnRedis(t, srv, fb)
	defer s2.Close()
	if left, _ := s2.(*failover.Store).Fallback().PendingWrites(ctx); len(left) != 0 {
		t.Errorf("%d journal entries left after the replay at open", len(left))
	}
	r, err := redis.Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	check := func(when string) {
		t.Helper()
		runs, err := r.ListRuns(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		cache, err := r.ListRecords(ctx, store.CacheKind, "")
		if err != nil {
			t.Fatal(err)
		}
		studies, err := r.ListStudies(ctx)
		if err != nil || len(studies) != 1 {
			t.Fatalf("%s: studies %v, %v", when, studies, err)
		}
		trials, err := r.Trials(ctx, studies[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		complete := 0
		for i, tr := range trials {
			if tr.Number != i {
				t.Errorf("%s: trial %d has number %d", when, i, tr.Number)
			}
			if tr.State == tune.Complete {
				complete++
			}
		}
		if len(runs) != budget || len(cache) != budget || len(trials) != budget || complete != budget {
			t.Errorf("%s: redis has %d runs, %d cache records, %d trials (%d complete); want %d of each", when, len(runs), len(cache), len(trials), complete, budget)
		}
	}
	check("after replay")
	// Replaying everything again (as if the journal had not been cleared)
	// changes nothing.
	var before bytes.Buffer
	if _, err := store.Export(ctx, r, &before, true); err != nil {
		t.Fatal(err)
	}
	f := s2.(*failover.Store).Fallback()
	runs, _ := f.ListRuns(ctx, 0)
	for _, run := range runs {
		f.MarkPending(ctx, sqliteRun(run.ID))
	}
	for i := range budget {
		f.MarkPending(ctx, sqliteTrial("kill", i))
	}
	n, err := failover.Replay(ctx, f, r)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("second replay rewrote %+v", n)
	check("after a second replay")
	var after bytes.Buffer
	if _, err := store.Export(ctx, r, &after, true); err != nil {
		t.Fatal(err)
	}
	if before.String() != after.String() {
		t.Errorf("a second replay changed redis:\n%s\nvs\n%s", before.String(), after.String())
	}
}

// TestSnapshotRefusesFallback: a snapshot (an export) of a store whose
// Redis goes away fails instead of reading the fallback. It used to fail
// over and return the fallback's state, so `store export` wrote an
// almost empty dump of a Redis it named, and exited 0.
func TestSnapshotRefusesFallback(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	s, err := failover.Open(ctx, srv.URL(), failover.Options{Fallback: filepath.Join(t.TempDir(), "fb.db"), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.PutRecord(ctx, "k", "a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	read := false
	err = s.Snapshot(ctx, func(store.View) error { read = true; return nil })
	if !errors.Is(err, store.ErrUnavailable) || read {
		t.Errorf("snapshot with Redis gone: %v (read %v); want ErrUnavailable and nothing read", err, read)
	}
	if !s.(*failover.Store).Down() {
		t.Error("the store did not fail over for what follows")
	}
}
