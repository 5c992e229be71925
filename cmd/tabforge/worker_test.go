package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tabforge/tabforge/dist"
)

// startWorker starts a tabforge worker process on queue url and store.
func startWorker(t *testing.T, url, storeURL string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	var errb syncBuffer
	cmd := tabforgeProc(t, "worker", "--queue", url, "--store", storeURL, "--concurrency", "1")
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, &errb
}

// killStudyArgs is a gbdt study of 24 trials on 3 folds of a 234-row
// corpus table: 72 fold units of tens of milliseconds each, so the whole
// study takes seconds and a worker is caught mid-unit. No pruner, so
// every trial runs its three folds to completion.
func killStudyArgs(dir string) []string {
	return []string{"train", "--data", testdata("corpus/ggplot2_mpg.csv"), "--target", "hwy", "--models", "gbdt",
		"--cv-folds", "3", "--set", "enable_hyperparameter_tuning=true", "--max-evals", "24", "--set", "pruner=none", "--json",
		"--store", "sqlite://" + filepath.Join(dir, "tf.db"), "--set", "artifacts=" + filepath.Join(dir, "artifacts"),
		"--set", "force_production_quality=false", "--out", filepath.Join(dir, "models")}
}

// startQueue starts a JetStream server on a loopback port for the test
// (embedded with -tags natsembed, else Debian's nats-server), or skips
// the test when neither can run.
func startQueue(t *testing.T) *dist.Server {
	t.Helper()
	srv, err := dist.Start(0)
	if errors.Is(err, dist.ErrNoEmbedded) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return srv
}

// TestWorkersSurviveKill runs a 24-trial study whose trials run on two
// worker processes through a JetStream server, SIGKILLs one worker while
// it runs a unit, and checks that the unit is redelivered to the other,
// that the study has 24 complete trials with distinct numbers, run by
// both workers, equal to the same batched study run in this process, and
// that no unit produced a second result.
func TestWorkersSurviveKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	srv := startQueue(t)
	dir := t.TempDir()
	storeURL := "sqlite://" + filepath.Join(dir, "tf.db")

	// The reference: the same study in this process, in batches of 2 as
	// two workers of concurrency 1 ask for.
	ref := t.TempDir()
	code, refOut, refErr := cli(t, ref, append(killStudyArgs(ref), "--set", "tune_batch=2")...)
	if code != 0 {
		t.Fatalf("local train: exit %d\n%s", code, refErr)
	}
	want := shownStudies(t, ref, runID(t, refOut))

	victim, victimLog := startWorker(t, srv.URL(), storeURL)
	_, survivorLog := startWorker(t, srv.URL(), storeURL)
	waitWorkers(t, srv.URL(), 2, victimLog, survivorLog)
	var out bytes.Buffer
	var driverErr syncBuffer
	driver := tabforgeProc(t, append(killStudyArgs(dir), "--queue", srv.URL())...)
	driver.Stdout, driver.Stderr = &out, &driverErr
	if err := driver.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill the victim while it runs its second unit or a later one.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		l := victimLog.String()
		if strings.Count(l, "unit done") >= 1 && strings.Count(l, "unit start") > strings.Count(l, "unit done") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the victim never started a second unit\nvictim:\n%s\ndriver:\n%s", l, driverErr.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := victim.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := driver.Wait(); err != nil {
		t.Fatalf("driver: %v\n%s\nsurvivor:\n%s", err, driverErr.String(), survivorLog.String())
	}
	got := sameStudies(t, dir, runID(t, out.String()), want)
	numbers, workers := map[int]bool{}, map[string]bool{}
	complete := 0
	for _, tr := range got[0].Trials {
		if numbers[tr.Number] {
			t.Errorf("trial number %d twice", tr.Number)
		}
		numbers[tr.Number] = true
		if tr.State == "complete" {
			complete++
		}
		for _, u := range tr.Units {
			workers[u.Worker] = true
		}
	}
	if complete != 24 || len(workers) < 2 {
		t.Errorf("study has %d complete trials run by workers %v; want 24 trials by both workers:\n%s", complete, workers, trialsText(got[0]))
	}
	// The kill may land after the victim stored its unit's result but
	// before it logged and acked it: the driver has the result and
	// finishes, and the unacked unit reaches the survivor only after the
	// queue's AckWait, which acks it as already done. Wait for that.
	var st dist.Status
	for wait := time.Now().Add(4 * dist.AckWait); ; time.Sleep(100 * time.Millisecond) {
		code, wout, werr := cli(t, dir, "workers", "--queue", srv.URL(), "--json")
		if code != 0 || json.Unmarshal([]byte(wout), &st) != nil {
			t.Fatalf("workers --json: exit %d\n%s%s", code, wout, werr)
		}
		if st.Queued == 0 && st.InFlight == 0 || time.Now().After(wait) {
			break
		}
	}
	logs := victimLog.String() + survivorLog.String()
	if !strings.Contains(survivorLog.String(), "delivery=2") && !strings.Contains(survivorLog.String(), "unit already done") {
		t.Errorf("the survivor never took a redelivered unit\nsurvivor:\n%s", survivorLog.String())
	}
	if strings.Contains(logs, "duplicate=true") {
		t.Errorf("a unit ran to a second result:\n%s", logs)
	}
	// One result per unit: each logged "unit done", but for the victim's
	// last unit when it died between storing the result and the log line.
	keys := resultKeys(t, srv.URL())
	if done := strings.Count(logs, "unit done"); keys < done || keys > done+1 || keys < 72 {
		t.Errorf("workers finished %d units and wrote %d results; want one result per unit, at least 72 (24 trials x 3 folds)", done, keys)
	}
	if len(st.Workers) < 1 || st.Queued != 0 || st.InFlight != 0 || st.Results != uint64(keys) {
		t.Errorf("workers --json = %+v; want the survivor, nothing queued or in flight, %d results", st, keys)
	}
}

func resultKeys(t *testing.T, url string) int {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, dist.ResultsBucket)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := kv.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return len(keys)
}

// TestQueueWithoutWorkers: a train on a queue no worker serves says so
// within seconds, and runs locally with executor_fallback=local. It uses
// Debian's nats-server when installed, the embedded server otherwise.
func TestQueueWithoutWorkers(t *testing.T) {
	url := natsServer(t)
	dir := t.TempDir()
	args := []string{"train", "--data", testdata("credit_data.csv"), "--target", "Status", "--models", "logistic", "--cv-folds", "3",
		"--set", "force_production_quality=false", "--out", filepath.Join(dir, "models"), "--queue", url}
	start := time.Now()
	code, _, errs := cli(t, dir, args...)
	if code == 0 || !strings.Contains(errs, "no tabforge worker is connected") {
		t.Errorf("train without workers: exit %d, stderr\n%s\nwant a failure saying no worker is connected", code, errs)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %s to say so", d)
	}
	code, _, errs = cli(t, dir, append(args, "--set", "executor_fallback=local")...)
	if code != 0 {
		t.Errorf("train with executor_fallback=local: exit %d\n%s", code, errs)
	}
	// Tuning used to record every trial failed, fall back to a grid
	// search that failed as well, and end "succeeded" or after minutes.
	start = time.Now()
	code, _, errs = cli(t, dir, append(args, "--set", "enable_hyperparameter_tuning=true", "--max-evals", "6")...)
	if code == 0 || !strings.Contains(errs, "no tabforge worker is connected") || strings.Contains(errs, "grid search") {
		t.Errorf("tuning without workers: exit %d, stderr\n%s\nwant a failure saying no worker is connected, without a grid fallback", code, errs)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("tuning took %s to say so", d)
	}
}

// TestQueueUnreachable: a driver whose queue cannot be reached fails at
// once with one line (errors are one line on stderr) naming the cause and
// the hint, without the queue's password.
func TestQueueUnreachable(t *testing.T) {
	dir := t.TempDir()
	code, _, errs := cli(t, dir, "train", "--data", testdata("credit_data.csv"), "--target", "Status", "--models", "logistic",
		"--out", filepath.Join(dir, "models"), "--queue", "nats://tf:s3cret@127.0.0.1:1")
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	last := lines[len(lines)-1]
	if code != 1 || !strings.Contains(last, "connect to nats://tf:xxxxx@127.0.0.1:1") || !strings.Contains(last, "is the server running?") ||
		strings.Contains(errs, "s3cret") {
		t.Errorf("train with an unreachable queue: exit %d, stderr\n%s\nwant exit 1 and one line naming the queue (password hidden) and asking whether the server runs", code, errs)
	}
}

// natsServer starts Debian's nats-server with JetStream on a loopback
// port it picks, or skips when it is not installed.
func natsServer(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		t.Skip("nats-server is not installed (apt-get install nats-server; scripts/test.sh does)")
	}
	srv, err := dist.Spawn(bin, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return srv.URL()
}

// TestWorkerFetchesDataset runs a worker that cannot read the file the
// run records (absolute, as on another machine): the driver has loaded
// and shared it, then it is removed before the worker starts. The
// worker fetches the file the driver shared on the queue under the
// recorded path, checks its hash, and the run succeeds.
func TestWorkerFetchesDataset(t *testing.T) {
	srv := startQueue(t)
	driverDir, workerDir, dir := t.TempDir(), t.TempDir(), t.TempDir()
	data, err := os.ReadFile(testdata("credit_data.csv"))
	if err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(driverDir, "credit.csv")
	if err := os.WriteFile(local, data, 0o644); err != nil {
		t.Fatal(err)
	}
	storeURL := "sqlite://" + filepath.Join(dir, "tf.db")
	driver := tabforgeProc(t, "train", "--data", "credit.csv", "--target", "Status", "--models", "logistic", "--cv-folds", "3",
		"--store", storeURL, "--set", "artifacts="+filepath.Join(dir, "artifacts"), "--set", "force_production_quality=false",
		"--out", filepath.Join(dir, "models"), "--queue", srv.URL())
	driver.Dir = driverDir
	var dout syncBuffer
	driver.Stdout = &dout
	stderr, err := driver.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := driver.Start(); err != nil {
		t.Fatal(err)
	}
	// The units wait on the queue until a worker starts, which is after
	// the driver has read the file and the file is gone.
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		fmt.Fprintln(&dout, lines.Text())
		if strings.Contains(lines.Text(), "loaded dataset") {
			break
		}
	}
	if err := os.Remove(local); err != nil {
		t.Fatal(err)
	}
	copied := make(chan struct{})
	go func() { // the rest of the log; Wait must come after the last read
		for lines.Scan() {
			fmt.Fprintln(&dout, lines.Text())
		}
		close(copied)
	}()
	var wlog syncBuffer
	w := tabforgeProc(t, "worker", "--queue", srv.URL(), "--store", storeURL)
	w.Dir, w.Stderr = workerDir, &wlog
	w.Env = append(w.Env, "TMPDIR="+t.TempDir()) // no dataset cached by an earlier run
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { w.Process.Kill(); w.Wait() }()
	<-copied
	if err := driver.Wait(); err != nil {
		t.Fatalf("driver: %v\n%s\nworker:\n%s", err, dout.String(), wlog.String())
	}
	if l := wlog.String(); !strings.Contains(l, "fetched dataset") || !strings.Contains(l, "unit done") {
		t.Errorf("the worker did not fetch the dataset and run units:\n%s", l)
	}
}
