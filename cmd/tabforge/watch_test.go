package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWatchCommand promotes a ridge champion of a year of synthetic
// orders and watches a directory holding its data: two --once runs over
// the same directory handle the file once ("no new data"), and a newer
// file added to it is retrained on (a challenger, as --on-demand=false
// asks: on demand, the ridge champion scores no worse on the newest rows
// and cannot be refreshed, so it is kept); --status lists both.
func TestWatchCommand(t *testing.T) {
	dir, watched := t.TempDir(), t.TempDir()
	at := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	f, old, all := salesSplit(t, 6_000, 3, at)
	before := writeRows(t, watched, "sales_2022.csv", f, old)
	code, _, stderr := tabforge(t, dir, "train", "--data", before, "--target", "order_quantity", "--time-column", "order_date",
		"--drop", "order_number,procured_date,ship_date,delivery_date", "--models", "ridge", "--cv-folds", "0", "--name", "sales",
		"--set", "min_r2_threshold=-1", "--set", "min_business_accuracy=0", "--out", filepath.Join(dir, "runs"))
	if code != 0 {
		t.Fatalf("train: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := tabforge(t, dir, "models", "promote", "sales@latest", "--stage", "production"); code != 0 {
		t.Fatalf("promote: exit %d\n%s", code, stderr)
	}
	once := func() []map[string]any {
		t.Helper()
		code, out, stderr := tabforge(t, dir, "watch", "--name", "sales", "--dir", watched, "--once", "--settle", "0", "--json", "--on-demand=false",
			"--work-dir", filepath.Join(dir, "continuous"))
		if code != 0 {
			t.Fatalf("watch --once: exit %d\n%s", code, stderr)
		}
		var hs []map[string]any
		if err := json.Unmarshal([]byte(out), &hs); err != nil {
			t.Fatalf("watch --once --json: %v\n%s", err, out)
		}
		return hs
	}
	if hs := once(); len(hs) != 1 || hs[0]["decision"] != "keep" || hs[0]["reason"] != "no new data" {
		t.Fatalf("first watch: %v; want the champion's data kept", hs)
	}
	if hs := once(); len(hs) != 0 {
		t.Fatalf("second watch over the same directory: %v; want nothing handled", hs)
	}
	writeRows(t, watched, "sales_2023.csv", f, all)
	if hs := once(); len(hs) != 1 || filepath.Base(hs[0]["path"].(string)) != "sales_2023.csv" || hs[0]["challenger_version"] == nil {
		t.Fatalf("watch after a new file: %v; want a retrain on it with a challenger", hs)
	}
	if hs := once(); len(hs) != 0 {
		t.Fatalf("watch again: %v; want nothing handled", hs)
	}
	code, out, stderr := tabforge(t, dir, "watch", "--name", "sales", "--status", "--json")
	var hs []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &hs) != nil || len(hs) != 2 {
		t.Errorf("watch --status: exit %d, %s%s; want 2 versions", code, out, stderr)
	}
	// A file retrain fails on is recorded, and --once says so with its
	// exit status (it used to exit 0, so cron never told anyone).
	if err := os.WriteFile(filepath.Join(watched, "broken.csv"), []byte("a,b\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"watch", "--name", "sales", "--dir", watched, "--once", "--settle", "0", "--json", "--work-dir", filepath.Join(dir, "continuous")}
	code, out, stderr = tabforge(t, dir, args...)
	if code != 1 || json.Unmarshal([]byte(out), &hs) != nil || len(hs) != 1 || hs[0]["decision"] != "error" || !strings.Contains(stderr, "broken.csv") {
		t.Errorf("watch --once over a broken file: exit %d, %s%s; want 1, its error recorded and named", code, out, stderr)
	}
	if code, out, stderr := tabforge(t, dir, args...); code != 0 {
		t.Errorf("watch --once after the broken file was recorded: exit %d, %s%s; want 0", code, out, stderr)
	}
	if code, _, _ := tabforge(t, dir, "watch", "--name", "sales"); code != 2 {
		t.Errorf("watch without --dir: exit %d; want 2", code)
	}
	// A negative settle time read as none.
	if code, _, stderr := tabforge(t, dir, "watch", "--name", "sales", "--dir", watched, "--once", "--settle", "-5s"); code != 2 || !strings.Contains(stderr, "--settle -5s") {
		t.Errorf("watch --settle -5s: exit %d, %s; want 2", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "continuous")); err != nil {
		t.Error(err)
	}
}

// watchUntilScan runs a watcher over a directory holding one new file
// with extra arguments, cancelling its context (as Ctrl-C or SIGTERM
// would) once the first scan has run: when it logs the file it leaves
// to settle.
func watchUntilScan(t *testing.T, extra ...string) (code int, stdout, stderr string) {
	t.Helper()
	dir, watched := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(watched, "new.csv"), []byte("a,b\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := &cancelOn{text: "settle time", cancel: cancel}
	var out bytes.Buffer
	code = run(ctx, append([]string{"watch", "--store", "sqlite://" + filepath.Join(dir, "tf.db"), "--name", "sales", "--dir", watched,
		"--settle", "1h", "--work-dir", filepath.Join(dir, "continuous")}, extra...), &out, errs)
	return code, out.String(), errs.String()
}

// TestWatchStopsCleanly: Ctrl-C or SIGTERM is how a watcher is stopped,
// as serve, ui and worker are, so it exits 0 like them; it exited 1 with
// "tabforge: context canceled", which a service manager reports as a
// failure on every stop.
func TestWatchStopsCleanly(t *testing.T) {
	if code, _, stderr := watchUntilScan(t); code != 0 || strings.Contains(stderr, "context canceled") {
		t.Errorf("watch stopped by a signal: exit %d, stderr %q; want 0 and no error", code, stderr)
	}
}

// TestWatchJSONNeedsOnce: --json prints the versions of one scan (--once)
// or the handled list (--status); a running watcher prints no document,
// and ignored --json silently, leaving a script waiting on stdout.
func TestWatchJSONNeedsOnce(t *testing.T) {
	code, out, stderr := watchUntilScan(t, "--json")
	if code != 2 || out != "" || !strings.Contains(stderr, "--json needs --once or --status") {
		t.Errorf("watch --json without --once: exit %d, stdout %q, stderr %q; want a usage error", code, out, stderr)
	}
}

// cancelOn is a stderr that calls cancel once text is written to it.
type cancelOn struct {
	bytes.Buffer
	text   string
	cancel func()
}

func (c *cancelOn) Write(p []byte) (int, error) {
	n, err := c.Buffer.Write(p)
	if strings.Contains(c.String(), c.text) {
		c.cancel()
	}
	return n, err
}
