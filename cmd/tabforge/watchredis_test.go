package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store/redis/redistest"
)

// TestWatchAfterRedisOutage: a watcher on Redis that met Redis down
// handles a file added once Redis is back, in Redis, where serve and
// `watch --status` look. It used to stay on its SQLite fallback for the
// rest of the process, where the champion is unknown and what it
// registered never reached Redis.
func TestWatchAfterRedisOutage(t *testing.T) {
	srv := redistest.Start(t)
	dir, watched := t.TempDir(), t.TempDir()
	url := srv.URL() + "?fallback=" + filepath.Join(dir, "fallback.db")
	arts := "artifacts=" + filepath.Join(dir, "artifacts")
	at := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	f, old, all := salesSplit(t, 6_000, 3, at)
	before := writeRows(t, watched, "sales_2022.csv", f, old)
	if code, _, stderr := tabforge(t, dir, "train", "--store", url, "--set", arts, "--data", before, "--target", "order_quantity",
		"--time-column", "order_date", "--drop", "order_number,procured_date,ship_date,delivery_date", "--models", "ridge",
		"--cv-folds", "0", "--name", "sales", "--set", "min_r2_threshold=-1", "--set", "min_business_accuracy=0",
		"--out", filepath.Join(dir, "runs")); code != 0 {
		t.Fatalf("train: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := tabforge(t, dir, "models", "promote", "sales@latest", "--stage", "production", "--store", url, "--set", arts); code != 0 {
		t.Fatalf("promote: exit %d\n%s", code, stderr)
	}
	handled := func() int {
		code, out, _ := tabforge(t, dir, "watch", "--name", "sales", "--status", "--json", "--store", url)
		var hs []map[string]any
		if code != 0 || json.Unmarshal([]byte(out), &hs) != nil {
			return -1
		}
		return len(hs)
	}
	waitHandled := func(n int, what string) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for handled() != n && time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
		}
		if got := handled(); got != n {
			t.Fatalf("%s: Redis lists %d handled versions; want %d", what, got, n)
		}
	}
	cmd := tabforgeProc(t, "watch", "--name", "sales", "--dir", watched, "--every", "1s", "--settle", "0", "--on-demand=false",
		"--work-dir", filepath.Join(dir, "continuous"), "--store", url, "--set", arts)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitHandled(1, "the champion's own file")
	srv.Kill()
	time.Sleep(3 * time.Second) // the watcher scans every second: it meets the outage
	srv.Restart(t)
	writeRows(t, watched, "sales_2023.csv", f, all)
	waitHandled(2, "a file added once Redis was back")
}
