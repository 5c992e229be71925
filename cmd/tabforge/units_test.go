package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tabforge/tabforge/bench"
	"github.com/tabforge/tabforge/continuous"
	"github.com/tabforge/tabforge/meta"
)

// kbText renders a knowledge base file for comparison: each dataset's
// meta-features and each evaluation's configuration and scores, without
// times and run ids.
func kbText(t *testing.T, path string) string {
	t.Helper()
	s, err := meta.ReadSnapshotFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, d := range s.Datasets {
		b, _ := json.Marshal(d.Features.Values)
		lines = append(lines, fmt.Sprintf("%s %s %s %s", d.Key, d.Name, d.Metric, b))
	}
	for _, e := range s.Evals {
		b, _ := json.Marshal(e.Folds)
		lines = append(lines, fmt.Sprintf("%s %s %s %v %s %v %s", e.Dataset, e.ID, e.Family, e.Params, e.Source, e.Score, b))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// TestQueuedMetaBuild runs `meta build` of the two-dataset test corpus
// with each dataset as a unit on two worker processes through Debian's
// nats-server, and SIGKILLs the first worker seen scoring a dataset: its
// unit is redelivered to the other, the knowledge base equals a local
// build's, and each dataset has one result. A second build into a new
// file finds every dataset's result under its key, so no worker scores a
// dataset again.
func TestQueuedMetaBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker and server processes")
	}
	url := natsServer(t)
	dir := t.TempDir()
	args := func(out string) []string {
		return []string{"meta", "build", "--corpus", testdata("corpus"), "--max-rows", "150", "--folds", "2", "--out", filepath.Join(dir, out)}
	}
	if code, _, errs := cli(t, dir, args("local.json.gz")...); code != 0 {
		t.Fatalf("local meta build: exit %d\n%s", code, errs)
	}
	storeURL := "sqlite://" + filepath.Join(dir, "tf.db")
	w1, log1 := startWorker(t, url, storeURL)
	w2, log2 := startWorker(t, url, storeURL)
	waitWorkers(t, url, 2, log1, log2)
	var code int
	var out, errs string
	built := make(chan struct{})
	go func() {
		defer close(built)
		code, out, errs = cli(t, dir, append(args("queued.json.gz"), "--queue", url)...)
	}()
	victim, survivor := killBusy(t, []*exec.Cmd{w1, w2}, []*syncBuffer{log1, log2}, built)
	<-built
	if code != 0 || !strings.Contains(out, "2 dataset(s) scored") {
		t.Fatalf("queued meta build: exit %d\n%s%s\nworkers:\n%s\n%s", code, out, errs, log1.String(), log2.String())
	}
	if got, want := kbText(t, filepath.Join(dir, "queued.json.gz")), kbText(t, filepath.Join(dir, "local.json.gz")); got != want {
		t.Errorf("knowledge base built on workers:\n%s\nwant the local one:\n%s", got, want)
	}
	logs := log1.String() + log2.String()
	if victim == nil {
		t.Fatalf("no worker was caught scoring a dataset (each takes a design of 18 configurations)\n%s\n%s", log1.String(), log2.String())
	}
	if !strings.Contains(survivor.String(), "delivery=2") {
		t.Errorf("the killed worker's dataset was not redelivered to the other\nsurvivor:\n%s", survivor.String())
	}
	done := unitKeys(logs, "unit done")
	if len(done) != 2 || strings.Contains(logs, "duplicate=true") || !strings.Contains(logs, "kind="+meta.UnitKind) {
		t.Fatalf("workers finished units %v; want the 2 datasets, one result each\n%s", done, logs)
	}
	started := strings.Count(logs, "unit start")
	code, out, errs = cli(t, dir, append(args("again.json.gz"), "--queue", url)...)
	if code != 0 || !strings.Contains(out, "2 dataset(s) scored") {
		t.Fatalf("second queued meta build: exit %d\n%s%s", code, out, errs)
	}
	if n := strings.Count(log1.String()+log2.String(), "unit start"); n != started {
		t.Errorf("workers started %d units in a second build of the same corpus; want none (it reads the results by key)", n-started)
	}
	if got, want := kbText(t, filepath.Join(dir, "again.json.gz")), kbText(t, filepath.Join(dir, "local.json.gz")); got != want {
		t.Errorf("knowledge base from the kept results differs from the local one")
	}
}

// killBusy SIGKILLs the first worker whose log shows a unit started and
// not done, and returns its log and the other's; it returns nil for the
// victim when stop closes first (every unit finished before one was
// caught running).
func killBusy(t *testing.T, workers []*exec.Cmd, logs []*syncBuffer, stop <-chan struct{}) (victim, survivor *syncBuffer) {
	t.Helper()
	for {
		for i, l := range logs {
			s := l.String()
			if strings.Count(s, "unit start") > strings.Count(s, "unit done") {
				if err := workers[i].Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				return l, logs[1-i]
			}
		}
		select {
		case <-stop:
			return nil, nil
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// backtestScores renders a backtest --json result: each strategy's
// trainings and score per period.
func backtestScores(t *testing.T, out string) string {
	t.Helper()
	var r struct {
		Strategies []struct {
			Name      string
			Trainings int
			Periods   []struct {
				Start, Decision string
				Score           float64
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.Strategies) != 3 {
		t.Fatalf("backtest --json: %v\n%s", err, out)
	}
	var b strings.Builder
	for _, s := range r.Strategies {
		fmt.Fprintf(&b, "%s trainings %d:", s.Name, s.Trainings)
		for _, p := range s.Periods {
			fmt.Fprintf(&b, " %s=%v %s", p.Start, p.Score, p.Decision)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestQueuedBacktest runs a four-month backtest whose always strategy's
// last three periods are units on two worker processes through Debian's
// nats-server: every strategy's scores and decisions equal a local
// backtest's, each period ran once, and a rerun reads the kept results.
func TestQueuedBacktest(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker and server processes")
	}
	url := natsServer(t)
	dir := t.TempDir()
	data, _ := filepath.Abs(testdata("txhousing.csv"))
	args := []string{"backtest", "--data", data, "--target", "median", "--time-column", "date", "--drop", "volume",
		"--every", "month", "--periods", "4", "--models", "ridge", "--cv-folds", "0", "--start", "2010-01-01", "--json"}
	code, refOut, errs := cli(t, dir, args...)
	if code != 0 {
		t.Fatalf("local backtest: exit %d\n%s", code, errs)
	}
	want := backtestScores(t, refOut)
	storeURL := "sqlite://" + filepath.Join(dir, "tf.db")
	_, log1 := startWorker(t, url, storeURL)
	_, log2 := startWorker(t, url, storeURL)
	waitWorkers(t, url, 2, log1, log2)
	for run := range 2 {
		code, out, errs := cli(t, dir, append(args, "--queue", url)...)
		if code != 0 {
			t.Fatalf("queued backtest: exit %d\n%s\nworkers:\n%s\n%s", code, errs, log1.String(), log2.String())
		}
		if got := backtestScores(t, out); got != want {
			t.Errorf("run %d: backtest with always on workers:\n%s\nwant the local one:\n%s", run+1, got, want)
		}
		logs := log1.String() + log2.String()
		started := unitKeys(logs, "unit start")
		if len(started) != 3 || strings.Count(logs, "kind="+continuous.UnitKind) != 6 {
			t.Errorf("run %d: workers started %v; want the 3 always periods after the first, once each\n%s", run+1, started, logs)
		}
	}
}

// TestBenchDist runs bench dist on a 4-trial study of a small table with
// one core and one worker process: both rows run every trial and find
// the same best value, the queue row counts its units and measures the
// publish-to-start overhead.
func TestBenchDist(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker and server processes")
	}
	if _, err := exec.LookPath("nats-server"); err != nil {
		t.Skip("nats-server is not installed (apt-get install nats-server; scripts/test.sh does)")
	}
	t.Setenv(envMain, "1") // the bench runs this test binary as tabforge
	data, _ := filepath.Abs(testdata("corpus/ggplot2_mpg.csv"))
	// Not cli: flags after -- are the bench's train flags, and each row
	// has a fresh store of its own.
	var out, errs bytes.Buffer
	code := run(t.Context(), []string{"bench", "dist", "--workers", "1", "--pings", "5", "--json", "--",
		"--data", data, "--target", "hwy", "--models", "gbdt", "--cv-folds", "2", "--set", "enable_hyperparameter_tuning=true",
		"--max-evals", "4", "--set", "pruner=none", "--set", "force_production_quality=false"}, &out, &errs)
	var rows []bench.DistRow
	if code != 0 || json.Unmarshal(out.Bytes(), &rows) != nil || len(rows) != 2 {
		t.Fatalf("bench dist: exit %d\n%s%s", code, out.String(), errs.String())
	}
	local, queue := rows[0], rows[1]
	if local.Err != "" || queue.Err != "" || local.Trials != 4 || queue.Trials != 4 || local.Best != queue.Best {
		t.Errorf("bench dist rows %+v; want 4 trials each and the same best value", rows)
	}
	if queue.Units < 8 || queue.OverheadMS <= 0 {
		t.Errorf("queue row: %d units, overhead %v ms; want the 8 fold units of the study and a measured overhead", queue.Units, queue.OverheadMS)
	}
}
