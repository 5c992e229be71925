package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
)

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "tf.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestRunRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	created := time.Date(2026, 11, 25, 10, 0, 0, 123, time.UTC)
	in := &store.Run{ID: "abc123", Created: created, Status: store.Running, DatasetPath: "d.csv",
		DatasetHash: "h", ConfigHash: "c", Config: json.RawMessage(`{"seed":42}`), Task: "regression", Target: "y"}
	if err := s.PutRun(ctx, in); err != nil {
		t.Fatal(err)
	}
	in.Status, in.Finished, in.Best, in.Result = store.Succeeded, created.Add(time.Second), "ridge", json.RawMessage(`{"r2":0.9}`)
	if err := s.PutRun(ctx, in); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetRun(ctx, "abc")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.Succeeded || got.Best != "ridge" || string(got.Result) != `{"r2":0.9}` ||
		!got.Created.Equal(created) || !got.Finished.Equal(in.Finished) || string(got.Config) != `{"seed":42}` {
		t.Errorf("GetRun = %+v; want %+v", got, in)
	}
	if _, err := s.GetRun(ctx, "zzz"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetRun(unknown) err = %v; want ErrNotFound", err)
	}
}

func TestAmbiguousPrefix(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	for i, id := range []string{"ab1", "ab2"} {
		if err := s.PutRun(ctx, &store.Run{ID: id, Created: time.Unix(int64(i+1), 0), Status: store.Succeeded, Config: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.GetRun(ctx, "ab"); err == nil {
		t.Error("GetRun(ambiguous prefix) succeeded; want error")
	}
	if r, err := s.GetRun(ctx, "ab1"); err != nil || r.ID != "ab1" {
		t.Errorf("GetRun(ab1) = %v, %v", r, err)
	}
	runs, err := s.ListRuns(ctx, 0)
	if err != nil || len(runs) != 2 || runs[0].ID != "ab2" {
		t.Errorf("ListRuns = %v, %v; want newest first", runs, err)
	}
}

// TestConcurrentWriters opens the same file through two handles (as two
// processes would) and writes from both at once: nothing may be lost.
func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	a, path := openTemp(t)
	b, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var wg sync.WaitGroup
	const per = 50
	errs := make(chan error, 2*per)
	for w, s := range []*Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				r := &store.Run{ID: fmt.Sprintf("w%d-%03d", w, i), Created: time.Now(), Status: store.Succeeded, Config: json.RawMessage(`{}`)}
				if err := s.PutRun(ctx, r); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	runs, err := a.ListRuns(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2*per {
		t.Errorf("stored %d runs; want %d", len(runs), 2*per)
	}
}

// TestOpenUnwritablePath uses a path below a regular file, which fails
// even for root (CI runs as root, so permission bits would not).
func TestOpenUnwritablePath(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), filepath.Join(file, "tf.db")); err == nil {
		t.Error("Open below a regular file succeeded; want error")
	}
}

// TestConcurrentOpen opens one new file from several connections at once,
// as worker processes started together on one store do: creating the
// schema must wait for the other openers, not fail with SQLITE_BUSY
// (CI saw a worker fail to start so).
func TestConcurrentOpen(t *testing.T) {
	const openers = 6
	for round := range 15 {
		path := filepath.Join(t.TempDir(), fmt.Sprint(round), "tf.db")
		var wg sync.WaitGroup
		errs := make(chan error, openers)
		start := make(chan struct{})
		for range openers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				s, err := Open(context.Background(), path)
				if err != nil {
					errs <- err
					return
				}
				// A first write, as a worker's heartbeat or a run record.
				errs <- s.PutRun(context.Background(), &store.Run{ID: fmt.Sprintf("r%p", s), Created: time.Now(), Status: store.Succeeded, Config: json.RawMessage(`{}`)})
				s.Close()
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
}

// TestVacuumShrinksFileAtOnce: after records are deleted, Vacuum makes the
// database file (with its write-ahead log) smaller while the store is
// still open. In WAL mode VACUUM alone left the file as it was until the
// last connection closed, so gc reported the store shrank by 0 bytes
// (385 kB to 53 kB after it exited), and a serve or watch sharing the
// file kept the log as large as the database.
func TestVacuumShrinksFileAtOnce(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	value := make([]byte, 64<<10)
	for i := range 64 { // 4 MiB
		if err := s.PutRecord(ctx, store.CacheKind, fmt.Sprint(i), value); err != nil {
			t.Fatal(err)
		}
	}
	size := func() int64 {
		var n int64
		for _, p := range []string{path, path + "-wal"} {
			if info, err := os.Stat(p); err == nil {
				n += info.Size()
			}
		}
		return n
	}
	before := size()
	if n, _, err := s.PruneCache(ctx, time.Now().Add(time.Hour), false); err != nil || n != 64 {
		t.Fatalf("PruneCache = %d, %v; want 64 records", n, err)
	}
	if err := s.Vacuum(ctx); err != nil {
		t.Fatal(err)
	}
	if after := size(); after > before/4 {
		t.Errorf("database and log take %d bytes after Vacuum, %d before; want at most a quarter", after, before)
	}
}
