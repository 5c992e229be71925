package continuous

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tabforge/tabforge/internal/syncbuf"
	"github.com/tabforge/tabforge/store"
)

// TestWatchOnce watches a directory holding the champion's own data and
// a broken file, then adds newer data: each file is handled once (the
// champion's data is "no new data", the broken file an error), a second
// scan of the same files handles none, a copy of a handled file is not
// new, and the new file triggers a retrain with a challenger.
func TestWatchOnce(t *testing.T) {
	ctx := context.Background()
	env, before, after, champ := withChampion(t)
	state := env.Runs.(store.Claimer)
	dir := t.TempDir()
	copyFile(t, before, filepath.Join(dir, "a_2022.csv"))
	if err := os.WriteFile(filepath.Join(dir, "broken.csv"), []byte("order_date,order_quantity\nnot a date,\"x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not data"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A misspelt name marks no file handled.
	if got, err := WatchOnce(ctx, env, state, WatchOptions{Name: "slaes", Dir: dir}); err == nil || len(got) != 0 {
		t.Errorf("scan for an unknown name = %v, %v; want an error and nothing handled", got, err)
	}
	if all, err := Watched(ctx, state, "slaes"); err != nil || len(all) != 0 {
		t.Errorf("unknown name: %d versions recorded, %v; want none", len(all), err)
	}
	o := WatchOptions{Name: "sales", Dir: dir}
	got, err := WatchOnce(ctx, env, state, o)
	if err != nil {
		t.Fatal(err)
	}
	decisions := map[string]string{}
	for _, h := range got {
		decisions[filepath.Base(h.Path)] = h.Decision + ": " + h.Reason
	}
	if len(got) != 2 || decisions["a_2022.csv"] != "keep: no new data" {
		t.Fatalf("first scan handled %v; want the champion's data kept and broken.csv an error", decisions)
	}
	if d := decisions["broken.csv"]; len(d) < 6 || d[:6] != "error:" {
		t.Errorf("broken.csv: %q; want an error", d)
	}
	copyFile(t, before, filepath.Join(dir, "b_copy.csv"))
	if got, err := WatchOnce(ctx, env, state, o); err != nil || len(got) != 0 {
		t.Fatalf("second scan handled %v, %v; want nothing new", got, err)
	}
	copyFile(t, after, filepath.Join(dir, "c_2023.csv"))
	got, err = WatchOnce(ctx, env, state, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || filepath.Base(got[0].Path) != "c_2023.csv" || got[0].ChallengerVersion == "" || got[0].ChallengerVersion == champ {
		t.Fatalf("scan after a new file handled %+v; want a retrain of c_2023.csv with a challenger", got)
	}
	if got, err := WatchOnce(ctx, env, state, o); err != nil || len(got) != 0 {
		t.Fatalf("scan again handled %v, %v; want nothing new", got, err)
	}
	all, err := Watched(ctx, state, "sales")
	if err != nil || len(all) != 3 {
		t.Errorf("Watched = %d versions, %v; want 3", len(all), err)
	}
}

// TestWatchErrorIsAWarning: a file retrain fails on is recorded as an
// error and never retried, so the watcher logs it as a warning naming the
// file and the error; it was an INFO line like any decision, which an
// operator filtering for problems missed.
func TestWatchErrorIsAWarning(t *testing.T) {
	env, _, _, _ := withChampion(t)
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.csv")
	if err := os.WriteFile(broken, []byte("order_date,order_quantity\nnot a date,\"x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	o := WatchOptions{Name: "sales", Dir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	got, err := WatchOnce(context.Background(), env, env.Runs.(store.Claimer), o)
	if err != nil || len(got) != 1 || got[0].Decision != "error" {
		t.Fatalf("WatchOnce = %+v, %v; want broken.csv handled as an error", got, err)
	}
	var line string
	for l := range strings.Lines(logs.String()) {
		if strings.Contains(l, broken) {
			line = l
		}
	}
	if !strings.Contains(line, "level=WARN") || !strings.Contains(line, "err=") {
		t.Errorf("log line of %s: %q; want a warning with the error", broken, line)
	}
}

// TestWatchOnceSettling: a file modified within Settle is left for the
// next scan and the log names it (a --once scan right after a copy used
// to print only "0 new data versions handled"); once older than Settle
// it is listed.
func TestWatchOnceSettling(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fresh.csv")
	if err := os.WriteFile(path, []byte("a,b\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	o := WatchOptions{Name: "sales", Dir: dir, Settle: time.Hour, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	// No file is old enough, so neither env nor state is touched.
	got, err := WatchOnce(context.Background(), Env{}, nil, o)
	if err != nil || len(got) != 0 {
		t.Fatalf("WatchOnce = %v, %v; want nothing handled", got, err)
	}
	if !strings.Contains(logs.String(), "settle") || !strings.Contains(logs.String(), path) {
		t.Errorf("log %q; want a line naming %s as settling", logs.String(), path)
	}
	// A modification time ahead of the clock is said to be one: the
	// file waits until then, which "within the settle time" did not
	// explain.
	ahead := time.Now().Add(2 * time.Hour)
	if err := os.Chtimes(path, ahead, ahead); err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	if got, err := WatchOnce(context.Background(), Env{}, nil, o); err != nil || len(got) != 0 {
		t.Fatalf("WatchOnce = %v, %v; want nothing handled", got, err)
	}
	if l := logs.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, "in the future") || !strings.Contains(l, path) {
		t.Errorf("log %q; want a warning naming %s as modified in the future", l, path)
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	files, settling, err := dataFiles(dir, time.Hour)
	if err != nil || len(files) != 1 || files[0] != path || len(settling) != 0 {
		t.Errorf("dataFiles after 2h = %v, settling %v, %v; want [%s] and none settling", files, settling, err, path)
	}
}

// TestDataFilesFormats: the watcher takes every file frame.ReadFile
// reads, and only those (gzipped CSV and .pq Parquet files, which train
// and retrain read, were skipped without a word).
func TestDataFilesFormats(t *testing.T) {
	dir := t.TempDir()
	names := []string{"a.csv", "b.csv.gz", "c.parquet", "d.pq", "E.CSV", "f.txt", "g.json", ".hidden.csv", "h.gz"}
	at := time.Now().Add(-time.Hour)
	for _, n := range names {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
	}
	files, _, err := dataFiles(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, filepath.Base(f))
	}
	want := []string{"E.CSV", "a.csv", "b.csv.gz", "c.parquet", "d.pq"} // same time: by name
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("dataFiles = %v; want %v", got, want)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWatchConcurrent: two watchers scanning one directory at the same
// instant retrain a new file once between them (each used to retrain it).
func TestWatchConcurrent(t *testing.T) {
	ctx := context.Background()
	env, _, after, _ := withChampion(t)
	state := env.Runs.(store.Claimer)
	dir := t.TempDir()
	copyFile(t, after, filepath.Join(dir, "c_2023.csv"))
	o := WatchOptions{Name: "sales", Dir: dir}
	var wg sync.WaitGroup
	handled := make([][]Handled, 2)
	errs := make([]error, 2)
	for i := range handled {
		wg.Add(1)
		go func() {
			defer wg.Done()
			handled[i], errs[i] = WatchOnce(ctx, env, state, o)
		}()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	if n := len(handled[0]) + len(handled[1]); n != 1 {
		t.Errorf("two watchers handled the new file %d times; want once", n)
	}
	if all, err := Watched(ctx, state, "sales"); err != nil || len(all) != 1 {
		t.Errorf("Watched = %d versions, %v; want 1", len(all), err)
	}
	if left, err := state.ListRecords(ctx, store.ClaimKind, claimPrefix); err != nil || len(left) != 0 {
		t.Errorf("claims left after the scans: %d, %v; want none", len(left), err)
	}
}

// TestWatchFileRemoved: a file removed between the directory listing and
// its turn is skipped; it used to stop the scan, and with it the
// long-running watch, with "no such file or directory".
func TestWatchFileRemoved(t *testing.T) {
	var logs bytes.Buffer
	o := WatchOptions{Name: "sales", Dir: t.TempDir()}
	h, err := handle(context.Background(), Env{}, nil, o, filepath.Join(o.Dir, "gone.csv"), newHashMemo(), slog.New(slog.NewTextHandler(&logs, nil)))
	if h != nil || err != nil || !strings.Contains(logs.String(), "removed") {
		t.Errorf("handle of a removed file = %v, %v (log %q); want it skipped and logged", h, err, logs.String())
	}
}

// TestWatchEnvironmentFault: a retrain that fails on the work directory
// (here a path under a regular file; a full disk alike) stops the scan
// with the error and records nothing, so the data version is retried
// once the directory is fixed; it used to be recorded as the file's
// error and never retrained.
func TestWatchEnvironmentFault(t *testing.T) {
	ctx := context.Background()
	env, _, after, _ := withChampion(t)
	state := env.Runs.(store.Claimer)
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	env.Dir = filepath.Join(blocker, "continuous")
	dir := t.TempDir()
	copyFile(t, after, filepath.Join(dir, "c_2023.csv"))
	got, err := WatchOnce(ctx, env, state, WatchOptions{Name: "sales", Dir: dir})
	if err == nil || len(got) != 0 {
		t.Errorf("WatchOnce with an unusable work directory = %+v, %v; want an error and nothing handled", got, err)
	}
	if all, err := Watched(ctx, state, "sales"); err != nil || len(all) != 0 {
		t.Errorf("Watched = %+v, %v; want nothing recorded", all, err)
	}
	// The long-running watcher stops on the fault only in its first
	// scan; later it logs it and tries again (it used to exit, so a
	// passing full disk ended the daemon).
	if err := Watch(ctx, env, state, WatchOptions{Name: "sales", Dir: dir, Every: 10 * time.Millisecond}); err == nil {
		t.Error("Watch with an unusable work directory from the start returned nil")
	}
	var logs syncbuf.Buffer
	later := t.TempDir()
	copyFile(t, after, filepath.Join(later, "c_2023.csv")) // settling in the first scan, failing after
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- Watch(wctx, env, state, WatchOptions{Name: "sales", Dir: later, Every: 10 * time.Millisecond, Settle: 5 * time.Second,
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	}()
	for deadline := time.Now().Add(time.Minute); strings.Count(logs.String(), "scan failed") < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) || len(done) > 0 {
			break
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) || strings.Count(logs.String(), "scan failed") < 2 {
		t.Errorf("Watch with a fault after its first scan = %v; want it to keep scanning until cancelled; logs:\n%s", err, logs.String())
	}
}

// TestWatchRescanReadsChangedFilesOnly: a long-running watch scans its
// directory every --every; a file unchanged since the last scan is not
// read again (a directory of daily files was hashed whole on every scan,
// so each scan read more), a file rewritten is, and a file removed is
// forgotten.
func TestWatchRescanReadsChangedFilesOnly(t *testing.T) {
	ctx := context.Background()
	env, before, _, _ := withChampion(t)
	state := env.Runs.(store.Claimer)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")
	copyFile(t, before, a)
	copyFile(t, before, b)
	o := WatchOptions{Name: "sales", Dir: dir}
	hashes := newHashMemo()
	steps := []struct {
		name      string
		change    func()
		wantReads int // files hashed so far
	}{
		{"first scan", func() {}, 2},
		{"unchanged", func() {}, 2},
		{"unchanged again", func() {}, 2},
		{"b rewritten", func() {
			if err := os.Chtimes(b, time.Now(), time.Now().Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
		}, 3},
		{"a removed", func() {
			if err := os.Remove(a); err != nil {
				t.Fatal(err)
			}
		}, 3},
	}
	for _, s := range steps {
		s.change()
		if _, err := watchOnce(ctx, env, state, o, hashes); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if hashes.reads != s.wantReads {
			t.Errorf("%s: %d files hashed so far; want %d", s.name, hashes.reads, s.wantReads)
		}
	}
	if _, ok := hashes.seen[a]; ok || len(hashes.seen) != 1 {
		t.Errorf("memo after a was removed holds %d files (a: %v); want b only", len(hashes.seen), ok)
	}
}

// TestWatchChampionUnavailable: a retrain whose champion cannot be loaded
// (the artifact store configured is not the one the champion is in, or
// its artifact is gone) stops the scan and records nothing, and the data
// file is retrained once the champion loads again. Such files used to be
// recorded with decision "error" and skipped for good, though nothing was
// wrong with them.
func TestWatchChampionUnavailable(t *testing.T) {
	cases := []struct {
		name    string
		breakIt func(t *testing.T, dir string) (arts string, repair func())
	}{
		{"another artifact store", func(t *testing.T, dir string) (string, func()) {
			return filepath.Join(dir, "elsewhere"), func() {}
		}},
		{"artifact gone", func(t *testing.T, dir string) (string, func()) {
			arts := filepath.Join(dir, "artifacts")
			moved := filepath.Join(dir, "moved")
			if err := os.Rename(arts, moved); err != nil {
				t.Fatal(err)
			}
			return arts, func() {
				os.RemoveAll(arts)
				if err := os.Rename(moved, arts); err != nil {
					t.Fatal(err)
				}
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			_, after, _ := trainChampion(t, dir)
			arts, repair := c.breakIt(t, dir)
			env := openEnv(t, dir, arts)
			state := env.Runs.(store.Claimer)
			data := t.TempDir()
			copyFile(t, after, filepath.Join(data, "c_2023.csv"))
			o := WatchOptions{Name: "sales", Dir: data}
			if got, err := WatchOnce(ctx, env, state, o); err == nil || len(got) != 0 {
				t.Fatalf("WatchOnce without the champion = %+v, %v; want an error and nothing handled", got, err)
			}
			if all, err := Watched(ctx, state, "sales"); err != nil || len(all) != 0 {
				t.Fatalf("Watched = %+v, %v; want nothing recorded", all, err)
			}
			repair()
			env = openEnv(t, dir, filepath.Join(dir, "artifacts"))
			got, err := WatchOnce(ctx, env, state, o)
			if err != nil || len(got) != 1 || got[0].Decision == "error" {
				t.Errorf("WatchOnce once the champion loads = %+v, %v; want c_2023.csv retrained", got, err)
			}
		})
	}
}
