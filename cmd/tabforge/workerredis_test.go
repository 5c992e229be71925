package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store/redis/redistest"
)

// queuedTrain runs a small queued train (ridge, 2 folds of a 234-row
// corpus table) with driver fallback file fb and returns its exit code
// and stderr.
func queuedTrain(t *testing.T, dir, queue, redisURL, fb string, seed int) (int, string) {
	t.Helper()
	code, _, errs := tabforge(t, dir, "train", "--data", testdata("corpus/ggplot2_mpg.csv"), "--target", "hwy", "--models", "ridge",
		"--cv-folds", "2", "--seed", strings.Repeat("1", seed), "--queue", queue, "--store", redisURL+"?fallback="+fb,
		"--set", "artifacts="+filepath.Join(dir, "artifacts"), "--set", "force_production_quality=false", "--out", filepath.Join(dir, "models"))
	return code, errs
}

// TestWorkerAfterRedisOutage: a worker that ran into a Redis outage runs
// the units of later runs once Redis is back. It used to stay on its
// SQLite fallback for the rest of its life, where no driver's run ever
// is, and failed every later unit ("run ... is not in this worker's
// store"), and with it every train, until restarted.
func TestWorkerAfterRedisOutage(t *testing.T) {
	srv := redistest.Start(t)
	queue := startQueue(t)
	dir := t.TempDir()
	_, werr := startWorker(t, queue.URL(), srv.URL()+"?fallback="+filepath.Join(dir, "worker.db"))
	srv.Kill()
	// A train during the outage, on the driver's own fallback: the
	// worker meets the outage (whether this train succeeds is not the
	// point: its run is not where the worker can read it).
	queuedTrain(t, dir, queue.URL(), srv.URL(), filepath.Join(dir, "driver.db"), 1)
	srv.Restart(t)
	time.Sleep(time.Second) // Redis answers; nothing else to wait for
	if code, errs := queuedTrain(t, dir, queue.URL(), srv.URL(), filepath.Join(dir, "driver.db"), 2); code != 0 {
		t.Errorf("train after the outage: exit %d\n%s\nworker:\n%s", code, errs, werr.String())
	}
}
