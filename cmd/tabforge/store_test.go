package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/failover"
	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/redis/redistest"
	"github.com/tabforge/tabforge/store/sqlite"
	"github.com/tabforge/tabforge/store/storetest"
)

// The test binary doubles as the tabforge binary (and as a run writer),
// so the process tests need no separate go build.
const (
	envMain   = "TABFORGE_TEST_AS_MAIN"   // run the CLI on os.Args[1:]
	envWriter = "TABFORGE_TEST_AS_WRITER" // write runs to the store URL in os.Args[1]
)

func TestMain(m *testing.M) {
	switch {
	case os.Getenv(envMain) != "":
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	case os.Getenv(envWriter) != "":
		os.Exit(writeRuns(os.Args[1], os.Args[2], os.Args[3]))
	}
	os.Exit(m.Run())
}

// writeRuns writes n runs with ids prefix-0000.. to the store at url.
func writeRuns(url, prefix, count string) int {
	ctx := context.Background()
	n, _ := strconv.Atoi(count)
	st, err := failover.Open(ctx, url, failover.Options{NoFallback: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer st.Close()
	for i := range n {
		id := fmt.Sprintf("%s-%04d", prefix, i)
		if err := st.PutRun(ctx, &store.Run{ID: id, Created: time.Now(), Status: store.Succeeded, Config: json.RawMessage(`{}`)}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := st.PutRecord(ctx, "log", id, []byte(id)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

// tabforgeProc starts the CLI as a separate process.
func tabforgeProc(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), envMain+"=1")
	return cmd
}

// TestTrainSurvivesRedisKill starts a real train process against Redis,
// kills redis-server with SIGKILL while it runs, and checks that the run
// completes on the SQLite fallback; then restarts Redis on its AOF (the
// running record written before the kill is still there), runs tabforge
// store sync, and finds the finished run in Redis exactly once.
func TestTrainSurvivesRedisKill(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	dir := t.TempDir()
	fb := filepath.Join(dir, "fallback.db")
	url := srv.URL() + "?fallback=" + fb
	cmd := tabforgeProc(t, "train", "--store", url, "--data", testdata("ames.csv"), "--target", "Sale_Price",
		"--time-column", "Year_Sold,Mo_Sold", "--set", "cv_folds=2", "--models", "ridge,gbdt", "--out", dir, "--json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r, err := redis.Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	// Wait for the run's first record, then kill Redis mid-run.
	var runID string
	for deadline := time.Now().Add(60 * time.Second); runID == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if runs, err := r.ListRuns(ctx, 0); err == nil && len(runs) == 1 {
			runID = runs[0].ID
			if runs[0].Status != store.Running {
				t.Fatalf("run %s already %s before the kill", runID, runs[0].Status)
			}
		}
	}
	r.Close()
	if runID == "" {
		cmd.Process.Kill()
		t.Fatalf("no run appeared in redis; stderr: %s", stderr.String())
	}
	srv.Kill()
	killed := time.Now()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("train failed after the kill: %v\n%s", err, stderr.String())
	}
	t.Logf("train finished %v after redis was killed", time.Since(killed).Round(time.Millisecond))
	var res trainJSON
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || res.RunID != runID || res.Best == "" {
		t.Fatalf("train output %q (%v); want run %s with a best model", stdout.String(), err, runID)
	}
	if !strings.Contains(stderr.String(), "redis is unreachable") {
		t.Errorf("no failover warning on stderr:\n%s", stderr.String())
	}

	srv.Restart(t)
	r, err = redis.Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	before, err := r.GetRun(ctx, runID)
	if err != nil || before.Status != store.Running {
		t.Fatalf("after the AOF restart, redis has run %v, %v; want the running record written before the kill", before, err)
	}
	out, err := tabforgeProc(t, "store", "sync", "--store", url).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "1 runs") {
		t.Fatalf("store sync: %v\n%s", err, out)
	}
	runs, err := r.ListRuns(ctx, 0)
	if err != nil || len(runs) != 1 || runs[0].ID != runID || runs[0].Status != store.Succeeded || runs[0].Best != res.Best || len(runs[0].Result) == 0 {
		t.Fatalf("redis after sync: %+v, %v; want the one succeeded run %s", runs, err, runID)
	}
	out, err = tabforgeProc(t, "store", "sync", "--store", url).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "0 runs, 0 records") {
		t.Errorf("second store sync: %v\n%s; want nothing left", err, out)
	}
}

// TestConcurrentProcesses has two processes write runs and records at
// once into one SQLite file and one Redis database: nothing may be lost.
func TestConcurrentProcesses(t *testing.T) {
	ctx := context.Background()
	const per = 150
	for name, url := range map[string]string{
		"sqlite": "sqlite://" + filepath.Join(t.TempDir(), "shared.db"),
		"redis":  redistest.URL(t),
	} {
		t.Run(name, func(t *testing.T) {
			var procs []*exec.Cmd
			var outs []*bytes.Buffer
			for w := range 2 {
				cmd := exec.Command(os.Args[0], url, fmt.Sprint("w", w), strconv.Itoa(per))
				cmd.Env = append(os.Environ(), envWriter+"=1")
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				procs, outs = append(procs, cmd), append(outs, &out)
			}
			for i, p := range procs {
				if err := p.Wait(); err != nil {
					t.Errorf("writer %d: %v: %s", i, err, outs[i])
				}
			}
			st, err := failover.Open(ctx, url, failover.Options{NoFallback: true})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			runs, err := st.ListRuns(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			recs, err := st.ListRecords(ctx, "log", "")
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != 2*per || len(recs) != 2*per {
				t.Errorf("%d runs and %d records; want %d of each", len(runs), len(recs), 2*per)
			}
		})
	}
}

// TestExportWipeImport backs up a store with the CLI, wipes it, restores
// it and checks the second export equals the first byte for byte.
func TestExportWipeImport(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sqlitePath := filepath.Join(dir, "tf.db")
	redisURL := redistest.URL(t)
	for name, c := range map[string]struct {
		url  string
		wipe func(t *testing.T)
	}{
		"sqlite": {"sqlite://" + sqlitePath, func(t *testing.T) {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(sqlitePath + suffix)
			}
		}},
		"redis": {redisURL, func(t *testing.T) {
			r, err := redis.Open(ctx, redisURL)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			keys, err := r.Do(ctx, "KEYS", r.Prefix()+"*")
			if ks, _ := keys.([]any); err != nil || len(ks) == 0 {
				t.Fatalf("keys to wipe: %v, %v", keys, err)
			}
			if _, err := r.Do(ctx, "DEL", keys.([]any)...); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(name, func(t *testing.T) {
			st, err := failover.Open(ctx, c.url, failover.Options{NoFallback: true})
			if err != nil {
				t.Fatal(err)
			}
			storetest.Fill(t, st)
			st.Close()
			first := filepath.Join(dir, name+".jsonl")
			code, out, errs := tabforge(t, dir, "store", "export", first, "--store", c.url, "--cache")
			if code != 0 || !strings.Contains(out, "3 runs, 3 records, 1 studies, 2 trials") {
				t.Fatalf("export: %d %s %s", code, out, errs)
			}
			c.wipe(t)
			// Redis lists no runs; the SQLite file is gone, which
			// reading commands say rather than create an empty one.
			code, out, errs = tabforge(t, dir, "runs", "list", "--store", c.url, "--json")
			if wiped := strings.TrimSpace(out) == "[]" || strings.Contains(errs, "no store at "+sqlitePath); !wiped {
				t.Fatalf("after the wipe runs list = %d %q %q; want no runs", code, out, errs)
			}
			if code, out, errs := tabforge(t, dir, "store", "import", first, "--store", c.url); code != 0 {
				t.Fatalf("import: %d %s %s", code, out, errs)
			}
			// The second export goes to stdout ("-"), its summary to
			// stderr (it wrote a file named "-").
			code, b, errs := tabforge(t, dir, "store", "export", "-", "--store", c.url, "--cache")
			if code != 0 || !strings.Contains(errs, "to stdout: 3 runs") {
				t.Fatalf("export -: %d %s", code, errs)
			}
			a, _ := os.ReadFile(first)
			if b != string(a) || len(a) == 0 {
				t.Errorf("export after import differs:\n%s\nvs\n%s", a, b)
			}
			if _, err := os.Stat(filepath.Join(dir, "-")); err == nil {
				t.Error(`store export - wrote a file named "-"`)
			}
		})
	}
	// A file that is not a dump is refused with a one-line error.
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("hello\n"), 0o644)
	if code, _, errs := tabforge(t, dir, "store", "import", bad); code != 1 || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Errorf("importing garbage: exit %d, %q; want 1 and one line", code, errs)
	}
}

func TestDoctor(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv := redistest.Start(t)
	url := srv.URL() + "?fallback=" + filepath.Join(dir, "fb.db")
	code, out, errs := tabforge(t, dir, "doctor", "--store", url)
	if code != 0 || !strings.Contains(out, "no problems found") {
		t.Fatalf("doctor on a good setup: %d\n%s%s", code, out, errs)
	}
	r, err := redis.Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Do(ctx, "CONFIG", "SET", "appendonly", "no")
	r.Do(ctx, "CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
	code, out, _ = tabforge(t, dir, "doctor", "--store", url)
	if code != 1 || !strings.Contains(out, "persistence is off") || !strings.Contains(out, "allkeys-lru") || !strings.Contains(out, "fix: redis-cli CONFIG SET appendonly yes") {
		t.Errorf("doctor with persistence off and allkeys-lru: %d\n%s", code, out)
	}
	r.Do(ctx, "CONFIG", "SET", "maxmemory-policy", "volatile-lru")
	r.Do(ctx, "CONFIG", "SET", "save", "3600 1")
	code, out, _ = tabforge(t, dir, "doctor", "--store", url)
	if code != 1 || !strings.Contains(out, "RDB snapshots only") || strings.Contains(out, "maxmemory-policy is") {
		t.Errorf("doctor with RDB only and volatile-lru: %d\n%s", code, out)
	}
	code, out, _ = tabforge(t, dir, "doctor", "--store", "redis://127.0.0.1:1/0?fallback="+filepath.Join(dir, "fb.db"))
	if code != 1 || !strings.Contains(out, "redis store") || !strings.Contains(out, "fix: start redis-server") {
		t.Errorf("doctor with redis down: %d\n%s", code, out)
	}
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	code, out, _ = tabforge(t, dir, "doctor", "--store", "sqlite://"+filepath.Join(file, "tf.db"))
	if code != 1 || !strings.Contains(out, "cannot be opened") {
		t.Errorf("doctor on an unwritable sqlite path: %d\n%s", code, out)
	}
}

func TestStoreBadInput(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	srv := redistest.Start(t)
	r, err := redis.Open(context.Background(), srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	r.Do(context.Background(), "CONFIG", "SET", "requirepass", "sesame")
	r.Close()
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"unreachable redis without fallback", []string{"runs", "list", "--store", "redis://127.0.0.1:1/0", "--set", "store_fallback=false"}, 1, "store unavailable"},
		{"wrong password without fallback", []string{"runs", "list", "--store", "redis://:nope@" + srv.Addr + "/0", "--set", "store_fallback=false"}, 1, "authentication failed"},
		{"bad redis URL", []string{"runs", "list", "--store", "redis://127.0.0.1:6379/notadb"}, 1, "redis store URL"},
		{"unknown scheme", []string{"runs", "list", "--store", "postgres://db"}, 2, `scheme "postgres"`},
		{"read-only sqlite path", []string{"runs", "list", "--store", "sqlite://" + filepath.Join(file, "tf.db")}, 1, "open store"},
	}
	for _, tt := range tests {
		code, _, errs := tabforge(t, dir, tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.msg) || strings.Count(strings.TrimSpace(errs), "\n") != 0 || strings.Contains(errs, "nope") {
			t.Errorf("%s: exit %d, %q; want %d and one line with %q", tt.name, code, errs, tt.code, tt.msg)
		}
	}
	// With fallback on (the default), an unreachable Redis warns and the
	// command works on SQLite.
	code, out, errs := tabforge(t, dir, "runs", "list", "--store", "redis://127.0.0.1:1/0?fallback="+filepath.Join(dir, "fb.db"))
	if code != 0 || !strings.Contains(errs, "redis is unreachable") || !strings.Contains(out, "RUN") {
		t.Errorf("fallback: exit %d, %q, %q", code, out, errs)
	}
	// An export would back up the fallback's outage writes as if they
	// were the store: refused, and no file is written.
	dump := filepath.Join(dir, "dump.jsonl")
	code, _, errs = tabforge(t, dir, "store", "export", dump, "--store", "redis://127.0.0.1:1/0?fallback="+filepath.Join(dir, "fb.db"))
	if _, err := os.Stat(dump); code != 1 || !strings.Contains(errs, "is unreachable") || err == nil {
		t.Errorf("export while failed over: exit %d, %q, file written %v; want a refusal and no file", code, errs, err == nil)
	}
}

func TestRunsDiff(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "tf.db"))
	if err != nil {
		t.Fatal(err)
	}
	for i, seed := range []int{42, 43} {
		st.PutRun(ctx, &store.Run{ID: fmt.Sprint("run", i), Created: time.Unix(int64(i), 0), Status: store.Succeeded, Best: "gbdt",
			Config: json.RawMessage(fmt.Sprintf(`{"seed":%d,"cv_folds":5}`, seed)),
			Result: json.RawMessage(fmt.Sprintf(`{"leaderboard":[{"model":"gbdt","cv":{"r2":0.8%d},"test":{"r2":0.9}}]}`, i))})
	}
	st.Close()
	code, out, errs := tabforge(t, dir, "runs", "diff", "run0", "run1")
	if code != 0 || !strings.Contains(out, "config.seed") || !strings.Contains(out, "metrics.gbdt.cv.r2") || strings.Contains(out, "cv_folds") || strings.Contains(out, "test.r2") {
		t.Errorf("runs diff: %d\n%s%s", code, out, errs)
	}
	// --json keys are snake_case, as every other command's: "a" and "b",
	// not the Go field names "A" and "B".
	code, out, errs = tabforge(t, dir, "runs", "diff", "run0", "run1", "--json")
	var changes []map[string]string
	if err := json.Unmarshal([]byte(out), &changes); code != 0 || err != nil || len(changes) == 0 {
		t.Fatalf("runs diff --json: %d %v\n%s%s", code, err, out, errs)
	}
	if c := changes[0]; c["key"] != "config.seed" || c["a"] != "42" || c["b"] != "43" {
		t.Errorf("runs diff --json: first change %v; want key config.seed, a 42, b 43", c)
	}
	if code, out, _ := tabforge(t, dir, "runs", "diff", "run0", "run0"); code != 0 || !strings.Contains(out, "same config") {
		t.Errorf("runs diff of a run with itself: %d %s", code, out)
	}
	if code, _, errs := tabforge(t, dir, "runs", "diff", "run0", "nope"); code != 1 || !strings.Contains(errs, "not found") {
		t.Errorf("runs diff with an unknown run: %d %s", code, errs)
	}
}

// TestImportRefusesBadRegistryRecord imports a dump one of whose model
// versions holds a value the registry cannot read: it must be refused
// whole, naming the line, rather than imported and then break models list.
func TestImportRefusesBadRegistryRecord(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := "sqlite://" + filepath.Join(dir, "src.db")
	st, err := failover.Open(ctx, src, failover.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.New(st)
	for _, ds := range []string{"d1", "d2"} {
		if _, _, err := reg.Register(ctx, registry.Model{Name: "churn", RunID: "run-" + ds,
			Artifact: artifact.Ref{URL: "mem://", Key: ds + "/model.tfm", SHA256: "ab", Size: 2},
			Identity: registry.Identity{DatasetHash: ds, ConfigHash: "cfg", Seed: 1, CodeVersion: "test"}}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	good := filepath.Join(dir, "good.jsonl")
	if code, out, errs := tabforge(t, dir, "store", "export", good, "--store", src); code != 0 {
		t.Fatalf("export: %d %s %s", code, out, errs)
	}
	// Damage the second model version's value, keeping the line a record.
	raw, _ := os.ReadFile(good)
	lines := strings.Split(string(raw), "\n")
	badLine, seen := 0, 0
	for i, l := range lines {
		if strings.Contains(l, `"kind":"registry.model"`) {
			if seen++; seen == 2 {
				var d struct {
					Type   string        `json:"type"`
					Record *store.Record `json:"record"`
				}
				json.Unmarshal([]byte(l), &d)
				d.Record.Value = []byte(`{"version":"x","created":"last tuesday"}`)
				b, _ := json.Marshal(d)
				lines[i], badLine = string(b), i+1
			}
		}
	}
	if badLine == 0 {
		t.Fatalf("the dump holds %d model versions, want 2:\n%s", seen, raw)
	}
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o644)

	code, _, errs := tabforge(t, dir, "store", "import", bad)
	want := fmt.Sprintf("import line %d: record registry.model/", badLine)
	if code != 1 || !strings.Contains(errs, want) || !strings.Contains(errs, "nothing imported") {
		t.Errorf("import of a dump with a damaged model version: exit %d, %q; want 1 and %q", code, errs, want)
	}
	// The import created the store, so refused it leaves none.
	if code, out, errs := tabforge(t, dir, "models", "list", "--json"); code != 1 || !strings.Contains(errs, "no store at") {
		t.Errorf("models list after the refused import: exit %d, %q, %q; want 1 and no store", code, out, errs)
	}
	if code, out, errs := tabforge(t, dir, "store", "import", good); code != 0 {
		t.Fatalf("import of the good dump: %d %s %s", code, out, errs)
	}
	if code, out, errs := tabforge(t, dir, "models", "list"); code != 0 || strings.Count(out, " run-d") != 2 {
		t.Errorf("models list after the good import: exit %d, %q, %q; want 2 versions of churn", code, out, errs)
	}
}

// TestRegistryOnFallback asks the registry for names while Redis is down
// and tabforge runs on the SQLite fallback: not finding a name there must
// not read as "no such name", since Redis holds the registry.
func TestRegistryOnFallback(t *testing.T) {
	dir := t.TempDir()
	down := "redis://127.0.0.1:1/0?fallback=" + filepath.Join(dir, "fb.db")
	up := []string{"sqlite://" + filepath.Join(dir, "tf.db"), redistest.URL(t)}
	const note = "the store is on its fallback sqlite://"
	tests := []struct {
		args []string
		code int
		want []string // in stderr
	}{
		{[]string{"models", "show", "churn@production"}, 1, []string{"unknown model name", note, "redis://127.0.0.1:1/0 is unreachable, so names registered there are not visible"}},
		{[]string{"models", "list", "--name", "churn"}, 1, []string{"unknown model name", note}},
		{[]string{"models", "show", "0123abcd"}, 1, []string{"unknown model version", note, "so versions registered there"}},
		{[]string{"models", "rollback", "churn"}, 1, []string{"neither a model name", note}},
		{[]string{"models", "list"}, 0, []string{"note: " + note, "versions registered there are not listed"}},
		{[]string{"models", "list", "--json"}, 0, []string{"note: " + note}},
		{[]string{"runs", "list"}, 0, []string{"note: " + note, "runs recorded there are not listed"}},
	}
	for _, tt := range tests {
		code, _, errs := tabforge(t, dir, append(tt.args, "--store", down)...)
		for _, w := range tt.want {
			if code != tt.code || !strings.Contains(errs, w) {
				t.Errorf("%s with redis down: exit %d, %q; want %d and %q", tt.args, code, errs, tt.code, w)
			}
		}
		// On a store with no fallback in use, the same commands say nothing of one.
		for _, st := range up {
			code, _, errs := tabforge(t, dir, append(tt.args, "--store", st)...)
			if code != tt.code || strings.Contains(errs, "fallback") {
				t.Errorf("%s on %s: exit %d, %q; want %d and no word of a fallback", tt.args, st, code, errs, tt.code)
			}
		}
	}
}

// TestImportOlderLayout imports a dump of a store written before names
// (a version without a name, a store-wide production record) into a
// store the registry has opened, so one that records the current layout
// and is no longer migrated by every command: store import migrates
// what it brought, and the version is ames@production.
func TestImportOlderLayout(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := "sqlite://" + filepath.Join(dir, "old.db")
	st, err := failover.Open(ctx, src, failover.Options{})
	if err != nil {
		t.Fatal(err)
	}
	id := registry.Identity{DatasetHash: "d1", ConfigHash: "cfg", Seed: 1, CodeVersion: "test"}
	v, err := registry.ID("", id)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := json.Marshal(map[string]any{"version": v, "dataset_hash": "d1", "config_hash": "cfg", "seed": 1, "code_version": "test",
		"dataset_path": "data/ames.csv", "deployable": true, "artifact": artifact.Ref{URL: "mem://", Key: "m.tfm", SHA256: "ab", Size: 2}})
	slot, _ := json.Marshal(map[string]any{"version": v, "since": time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err := errors.Join(st.PutRecord(ctx, registry.KindModel, v, m), st.PutRecord(ctx, registry.KindStage, "production", slot)); err != nil {
		t.Fatal(err)
	}
	st.Close()
	dump := filepath.Join(dir, "old.jsonl")
	if code, out, errs := tabforge(t, dir, "store", "export", dump, "--store", src); code != 0 {
		t.Fatalf("export: %d %s %s", code, out, errs)
	}
	// The registry opens the empty store, recording the current layout.
	dst, err := sqlite.Open(ctx, filepath.Join(dir, "tf.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := registry.Open(ctx, dst); err != nil {
		t.Fatal(err)
	}
	dst.Close()
	if code, out, errs := tabforge(t, dir, "store", "import", dump); code != 0 {
		t.Fatalf("import: %d %s %s", code, out, errs)
	}
	if code, out, errs := tabforge(t, dir, "models", "show", "ames@production"); code != 0 || !strings.Contains(out, v) {
		t.Errorf("models show ames@production after importing the old layout: exit %d, %q, %q; want %s", code, out, errs, v)
	}
}

// TestFailedImportLeavesNoStore: a store import that fails into an
// SQLite path with no store yet leaves neither the file nor the
// directories it made for it; it left an empty store, which later
// commands read as a store that holds nothing. A store that was there
// is kept.
func TestFailedImportLeavesNoStore(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, db := range []string{filepath.Join(dir, "tf.db"), filepath.Join(dir, "new", "deeper", "tf.db")} {
		if code, _, errs := tabforge(t, dir, "store", "import", bad, "--store", "sqlite://"+db); code != 1 {
			t.Fatalf("importing garbage into %s: exit %d, %q; want 1", db, code, errs)
		}
		if ents, err := os.ReadDir(dir); err != nil || len(ents) != 1 {
			t.Errorf("after a failed import into %s the directory holds %v, %v; want only the dump", db, ents, err)
		}
	}
	// A store that existed before the import stays.
	db := filepath.Join(dir, "tf.db")
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if code, _, _ := tabforge(t, dir, "store", "import", bad); code != 1 {
		t.Fatalf("importing garbage into an existing store: exit %d; want 1", code)
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("a failed import removed the store that was there: %v", err)
	}
}
