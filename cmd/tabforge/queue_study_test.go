package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tabforge/tabforge/dist"
)

// tunedTrainArgs is a gbdt study of 6 trials on 3 folds of ames.
func tunedTrainArgs(dir string) []string {
	return []string{"train", "--data", testdata("ames.csv"), "--target", "Sale_Price", "--models", "gbdt", "--cv-folds", "3",
		"--set", "enable_hyperparameter_tuning=true", "--max-evals", "6", "--json",
		"--store", "sqlite://" + filepath.Join(dir, "tf.db"), "--set", "artifacts=" + filepath.Join(dir, "artifacts"),
		"--set", "force_production_quality=false", "--out", filepath.Join(dir, "models")}
}

// shownStudies runs studies show RUN --json in dir's store.
func shownStudies(t *testing.T, dir, run string) []studyView {
	t.Helper()
	code, out, errs := cli(t, dir, "studies", "show", run, "--json")
	var views []studyView
	if code != 0 || json.Unmarshal([]byte(out), &views) != nil || len(views) == 0 {
		t.Fatalf("studies show %s --json: exit %d\n%s%s", run, code, out, errs)
	}
	return views
}

// trialsText renders a study's trials for comparison: number, state,
// value and parameters.
func trialsText(v studyView) string {
	var b strings.Builder
	for _, tr := range v.Trials {
		val := "-"
		if tr.Value != nil {
			val = fmt.Sprint(*tr.Value)
		}
		fmt.Fprintf(&b, "%d %s %s %v\n", tr.Number, tr.State, val, tr.Params)
	}
	return b.String()
}

func runID(t *testing.T, out string) string {
	t.Helper()
	var res trainJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.RunID == "" {
		t.Fatalf("train --json: %v\n%s", err, out)
	}
	return res.RunID
}

// waitWorkers waits until n workers announce themselves on the queue;
// the workers' logs, if given, say why one did not.
func waitWorkers(t *testing.T, url string, n int, logs ...*syncBuffer) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		st, err := dist.QueueStatus(t.Context(), url)
		if err == nil && len(st.Workers) >= n {
			return
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for i, l := range logs {
				fmt.Fprintf(&b, "\nworker %d:\n%s", i+1, l.String())
			}
			t.Fatalf("%d workers never joined %s (%v, %+v)%s", n, url, err, st, b.String())
		}
	}
}

// TestQueuedStudy runs a gbdt study (batches of 2) on two worker
// processes through Debian's nats-server: as is, across a server restart,
// and with the driver killed and the run resumed. The reference is the
// same batched study run in this process.
func TestQueuedStudy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker and server processes")
	}
	if _, err := exec.LookPath("nats-server"); err != nil {
		t.Skip("nats-server is not installed (apt-get install nats-server; scripts/test.sh does)")
	}
	ref := t.TempDir()
	code, refOut, refErr := cli(t, ref, append(tunedTrainArgs(ref), "--set", "tune_batch=2")...)
	if code != 0 {
		t.Fatalf("local train: exit %d\n%s", code, refErr)
	}
	want := shownStudies(t, ref, runID(t, refOut))
	t.Run("matches local", func(t *testing.T) { testQueuedMatchesLocal(t, want) })
	t.Run("server restart", func(t *testing.T) { testServerRestart(t, want) })
	t.Run("driver killed and resumed", testDriverResume)
}

// testQueuedMatchesLocal tunes with tune_batch auto (batches of 2, the
// workers' total concurrency) and checks that the study has the trials,
// parameters and values of the local one, and that studies show says
// which workers ran each queued trial.
func testQueuedMatchesLocal(t *testing.T, want []studyView) {
	url := natsServer(t)
	dir := t.TempDir()
	storeURL := "sqlite://" + filepath.Join(dir, "tf.db")
	_, log1 := startWorker(t, url, storeURL)
	_, log2 := startWorker(t, url, storeURL)
	waitWorkers(t, url, 2, log1, log2)
	code, out, errs := cli(t, dir, append(tunedTrainArgs(dir), "--queue", url)...)
	if code != 0 {
		t.Fatalf("queued train: exit %d\n%s\nworkers:\n%s\n%s", code, errs, log1.String(), log2.String())
	}
	var res trainJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if tun := res.Leaderboard[0].Tuning; tun == nil || tun.Batch != 2 {
		t.Errorf("queued study tuning %+v; want batches of 2 (two workers of concurrency 1)", tun)
	}
	got := sameStudies(t, dir, res.RunID, want)
	workers := map[string]bool{}
	for _, tr := range got[0].Trials {
		if tr.State != "complete" {
			continue
		}
		if tr.Worker == "" || tr.QueuedMS == nil || tr.RunMS == nil || len(tr.Units) != 3 {
			t.Errorf("queued trial %d: worker %q queued %v run %v units %v; want the workers and times of its 3 folds", tr.Number, tr.Worker, tr.QueuedMS, tr.RunMS, tr.Units)
		}
		for _, u := range tr.Units {
			workers[u.Worker] = true
		}
	}
	if len(workers) != 2 {
		t.Errorf("trials ran on workers %v; want both", workers)
	}
	if code, text, _ := cli(t, dir, "studies", "show", res.RunID); code != 0 || !strings.Contains(text, "WORKER") || !strings.Contains(text, "QUEUED MS") {
		t.Errorf("studies show RUN: exit %d\n%s\nwant worker and timing columns", code, text)
	}
}

// sameStudies checks that run's studies in dir have want's trials.
func sameStudies(t *testing.T, dir, run string, want []studyView) []studyView {
	t.Helper()
	got := shownStudies(t, dir, run)
	if len(got) != len(want) {
		t.Fatalf("queued run has %d studies, the local one %d", len(got), len(want))
	}
	for i := range want {
		if g, w := trialsText(got[i]), trialsText(want[i]); g != w {
			t.Errorf("study %s on the queue:\n%s\nwant the local batched study:\n%s", got[i].Study.Name, g, w)
		}
	}
	return got
}

// natsProc is Debian's nats-server on a storage directory and, once
// started, a fixed port, so that it restarts with its JetStream state.
type natsProc struct {
	dir  string
	port int // 0 until the first start, which lets the server choose
	srv  *dist.Server
}

func (n *natsProc) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.port) }

func (n *natsProc) start(t *testing.T) {
	t.Helper()
	srv, err := dist.SpawnIn("nats-server", n.dir, n.port)
	if err != nil {
		t.Fatal(err)
	}
	n.srv, n.port = srv, srv.Port()
}

// stop stops the server as a restart does (SIGTERM) and waits for it.
func (n *natsProc) stop() {
	if n.srv != nil {
		n.srv.Shutdown()
		n.srv = nil
	}
}

// unitKeys counts, per unit key, the worker log lines with the given
// message ("unit start" or "unit done").
func unitKeys(logs, msg string) map[string]int {
	out := map[string]int{}
	for _, line := range strings.Split(logs, "\n") {
		if !strings.Contains(line, "msg=\""+msg+"\"") {
			continue
		}
		for _, f := range strings.Fields(line) {
			if k, ok := strings.CutPrefix(f, "unit="); ok {
				out[k]++
			}
		}
	}
	return out
}

// waitLog waits until buf holds n lines containing s.
func waitLog(t *testing.T, buf *syncBuffer, s string, n int, what string) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Minute); strings.Count(buf.String(), s) < n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s never happened:\n%s", what, buf.String())
		}
	}
}

// testServerRestart restarts the server mid-study: driver and workers
// reconnect, the study is the local one, and every unit has one result.
func testServerRestart(t *testing.T, want []studyView) {
	srv := &natsProc{dir: t.TempDir()}
	srv.start(t)
	t.Cleanup(srv.stop)
	dir := t.TempDir()
	storeURL := "sqlite://" + filepath.Join(dir, "tf.db")
	_, log1 := startWorker(t, srv.url(), storeURL)
	_, log2 := startWorker(t, srv.url(), storeURL)
	waitWorkers(t, srv.url(), 2, log1, log2)
	var out bytes.Buffer
	var driverErr syncBuffer
	driver := tabforgeProc(t, append(tunedTrainArgs(dir), "--queue", srv.url())...)
	driver.Stdout, driver.Stderr = &out, &driverErr
	if err := driver.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { driver.Process.Kill(); driver.Wait() })
	waitLog(t, &driverErr, "trial done", 2, "two trials")
	srv.stop()
	time.Sleep(2 * time.Second)
	srv.start(t)
	if err := driver.Wait(); err != nil {
		t.Fatalf("driver: %v\n%s\nworkers:\n%s\n%s", err, driverErr.String(), log1.String(), log2.String())
	}
	if !strings.Contains(driverErr.String(), "trial done") || strings.Count(driverErr.String(), "trial done") < 6 {
		t.Errorf("driver log:\n%s", driverErr.String())
	}
	sameStudies(t, dir, runID(t, out.String()), want)
	done := unitKeys(log1.String()+log2.String(), "unit done")
	if n := resultKeys(t, srv.url()); n != len(done) {
		t.Errorf("%d results for %d units done; want one result per unit", n, len(done))
	}
}

// testDriverResume kills the driver mid-study with SIGKILL and resumes
// the run: it finishes under the same id with the trials finished
// before the kill, and no unit runs twice (results already in the
// results bucket are read, not recomputed).
func testDriverResume(t *testing.T) {
	url := natsServer(t)
	dir := t.TempDir()
	storeURL := "sqlite://" + filepath.Join(dir, "tf.db")
	_, log1 := startWorker(t, url, storeURL)
	_, log2 := startWorker(t, url, storeURL)
	waitWorkers(t, url, 2, log1, log2)
	args := append(tunedTrainArgs(dir), "--queue", url, "--set", "run_lease=1s")
	var driverErr syncBuffer
	driver := tabforgeProc(t, args...)
	driver.Stderr = &driverErr
	if err := driver.Start(); err != nil {
		t.Fatal(err)
	}
	waitLog(t, &driverErr, "trial done", 3, "three trials")
	driver.Process.Signal(syscall.SIGKILL)
	driver.Wait()
	run := ""
	for _, f := range strings.Fields(driverErr.String()) {
		if v, ok := strings.CutPrefix(f, "run="); ok {
			run = v
			break
		}
	}
	if run == "" {
		t.Fatalf("no run id in the driver log:\n%s", driverErr.String())
	}
	before := shownStudies(t, dir, run)
	time.Sleep(1500 * time.Millisecond) // the lease expires
	code, out, errs := cli(t, dir, "train", "--resume", run, "--json", "--queue", url, "--out", filepath.Join(dir, "models"))
	if code != 0 {
		t.Fatalf("train --resume: exit %d\n%s\nworkers:\n%s\n%s", code, errs, log1.String(), log2.String())
	}
	if id := runID(t, out); id != run {
		t.Errorf("resumed run id %s; want %s", id, run)
	}
	after := shownStudies(t, dir, run)
	if len(after) != 1 || len(before) != 1 {
		t.Fatalf("studies before the kill %d, after the resume %d; want the one gbdt study\n%s", len(before), len(after), errs)
	}
	complete := 0
	for _, tr := range after[0].Trials {
		if tr.State == "complete" {
			complete++
		}
	}
	if complete != 6 {
		t.Errorf("resumed study has %d complete trials; want 6:\n%s", complete, trialsText(after[0]))
	}
	kept := trialsText(after[0])
	for _, tr := range before[0].Trials {
		if tr.State == "complete" && !strings.Contains(kept, fmt.Sprintf("%d complete %v %v", tr.Number, *tr.Value, tr.Params)) {
			t.Errorf("trial %d, complete before the kill, is not kept as it was:\n%s", tr.Number, kept)
		}
	}
	for k, n := range unitKeys(log1.String()+log2.String(), "unit start") {
		if n > 1 {
			t.Errorf("unit %s started %d times; a resumed run must read the results it finds", k, n)
		}
	}
	if code, _, errs := cli(t, dir, "train", "--resume", run, "--queue", url); code == 0 || !strings.Contains(errs, "nothing to resume") {
		t.Errorf("resuming a finished run: exit %d %s", code, errs)
	}
}
