package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeProcess runs `tabforge serve` as a real process on a model
// trained, promoted and routed through the CLI: its answers on a CSV body
// equal `tabforge predict` on the same file, and SIGTERM while a request
// is still uploading lets that request finish with 200 before the process
// exits 0.
func TestServeProcess(t *testing.T) {
	dir := t.TempDir()
	bin := buildBinary(t, t.TempDir())
	version := trainChurn(t, dir)
	for _, args := range [][]string{
		{"models", "promote", version, "--stage", "production"},
		{"models", "route", "churn", "--split", "production=100", "--key", "state"},
	} {
		if code, out, errs := cli(t, dir, args...); code != 0 {
			t.Fatalf("%v: %d %s %s", args, code, out, errs)
		}
	}
	// A sticky key with no split, or production shadowing itself, is bad
	// usage; either was kept as if it did something.
	for _, args := range [][]string{{"--key", "state"}, {"--shadow", "production"}} {
		if code, _, errs := cli(t, dir, append([]string{"models", "route", "churn"}, args...)...); code != 2 || !strings.Contains(errs, "bad route") {
			t.Errorf("models route churn %v: exit %d %s; want 2, a bad route", args, code, errs)
		}
	}
	// 30 rows without the target, as a client would send them.
	recs := readCSV(t, testdata("mlc_churn.csv"))[:31]
	for i := range recs {
		recs[i] = recs[i][:len(recs[i])-1]
	}
	rows := filepath.Join(dir, "rows.csv")
	writeCSVFile(t, rows, recs)
	if code, out, errs := cli(t, dir, "predict", "--model", "churn@production", "--data", rows, "--out", filepath.Join(dir, "pred.csv")); code != 0 {
		t.Fatalf("predict: %d %s %s", code, out, errs)
	}
	want := readCSV(t, filepath.Join(dir, "pred.csv"))

	cmd, url := startServe(t, bin, "--store", "sqlite://"+filepath.Join(dir, "tf.db"), "--set", "artifacts="+filepath.Join(dir, "artifacts"))
	body, _ := os.ReadFile(rows)
	resp, err := http.Post(url+"/invocations", "text/csv", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Predictions []map[string]any }
	err = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || len(got.Predictions) != len(want)-1 || resp.Header.Get("X-Model-Version") != version {
		t.Fatalf("serve: %d, %d predictions, %v", resp.StatusCode, len(got.Predictions), err)
	}
	for i, rec := range got.Predictions {
		for j, col := range want[0] {
			w := want[i+1][j]
			if col == "prediction" {
				if rec[col] != w {
					t.Fatalf("row %d: serve %v, predict %s", i, rec[col], w)
				}
				continue
			}
			// predict writes probabilities with 8 significant digits.
			if strconv.FormatFloat(rec[col].(float64), 'g', 8, 64) != w {
				t.Fatalf("row %d %s: serve %v, predict %s", i, col, rec[col], w)
			}
		}
	}
	checkDrain(t, cmd, url, body)
}

// checkDrain starts a request whose body is still uploading, sends
// SIGTERM, then finishes the upload: the request must succeed and the
// process exit 0.
func checkDrain(t *testing.T, cmd *exec.Cmd, url string, body []byte) {
	t.Helper()
	pr, pw := io.Pipe()
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.Post(url+"/invocations", "text/csv", pr)
		if err != nil {
			done <- result{0, err}
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done <- result{resp.StatusCode, nil}
	}()
	half := len(body) / 2
	if _, err := pw.Write(body[:half]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the handler is reading the body now
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	pw.Write(body[half:])
	pw.Close()
	r := <-done
	if r.err != nil || r.code != http.StatusOK {
		t.Fatalf("in-flight request during SIGTERM: %d %v", r.code, r.err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not exit within 10s of SIGTERM")
	}
}

func writeCSVFile(t *testing.T, path string, recs [][]string) {
	t.Helper()
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(fh)
	w.WriteAll(slices.Clone(recs))
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
}

// startServe runs bin serve on a free loopback port with args, stops it
// when the test ends, and returns the process and its URL from the
// "listening on" line.
func startServe(t *testing.T, bin string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "listening on ") {
		t.Fatalf("serve printed %q, %v", line, err)
	}
	return cmd, strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
}

// TestServeLimitFlags: a limit given as zero or less is refused, not read
// as the library's "use the default".
func TestServeLimitFlags(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-rows", "0"}, "--max-rows must be positive"},
		{[]string{"--max-body", "-1"}, "--max-body must be positive"},
		{[]string{"--max-explain-rows", "0"}, "--max-explain-rows must be positive"},
		{[]string{"--max-concurrent", "-1"}, "--max-concurrent must not be negative"},
		{[]string{"--request-timeout", "0s"}, "--request-timeout must be positive"},
	} {
		code, _, errs := cli(t, dir, append([]string{"serve"}, tc.args...)...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("serve %v: exit %d, %q; want 2 and %q", tc.args, code, errs, tc.want)
		}
	}
}

// TestServeLogRotation rotates a real serve process's --prediction-log
// both ways while requests come: rename then SIGHUP, then copytruncate.
// Every request's line is in exactly one file, whole and in order.
// SIGHUP used to end the process (Go's default action), so every
// request after a rename-then-HUP rotation failed.
func TestServeLogRotation(t *testing.T) {
	dir := t.TempDir()
	bin := buildBinary(t, t.TempDir())
	version := trainChurn(t, dir)
	if code, out, errs := cli(t, dir, "models", "promote", version, "--stage", "production"); code != 0 {
		t.Fatalf("promote: %d %s %s", code, out, errs)
	}
	logPath := filepath.Join(dir, "pred.log")
	cmd, url := startServe(t, bin, "--store", "sqlite://"+filepath.Join(dir, "tf.db"), "--set", "artifacts="+filepath.Join(dir, "artifacts"),
		"--prediction-log", logPath)
	recs := readCSV(t, testdata("mlc_churn.csv"))[:2]
	body := strings.Join([]string{strings.Join(recs[0][:len(recs[0])-1], ","), strings.Join(recs[1][:len(recs[1])-1], ",")}, "\n") + "\n"
	seq := 0
	post := func(n int) (ids []string) {
		for range n {
			seq++
			id := fmt.Sprintf("req-%d", seq)
			req, _ := http.NewRequest(http.MethodPost, url+"/invocations", strings.NewReader(body))
			req.Header.Set("Content-Type", "text/csv")
			req.Header.Set("X-Request-Id", id)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("request %s: %v", id, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("request %s: %d", id, resp.StatusCode)
			}
			ids = append(ids, id)
		}
		return ids
	}
	want := map[string][]string{logPath + ".1": post(20)}
	if err := os.Rename(logPath, logPath+".1"); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	// The reopen creates the file anew.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(logPath); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no new log file within 10s of SIGHUP")
		}
	}
	want[logPath+".2"] = post(15)
	// copytruncate, as logrotate does it: copy, then truncate in place.
	// Lines written in between would be lost; none are, here.
	var b []byte
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var err error
		if b, err = os.ReadFile(logPath); err != nil {
			t.Fatal(err)
		}
		if strings.Count(string(b), "\n") == len(want[logPath+".2"]) { // serve flushes every second
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("log has %d lines 10s after %d requests", strings.Count(string(b), "\n"), len(want[logPath+".2"]))
		}
	}
	if err := os.WriteFile(logPath+".2", b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(logPath, 0); err != nil {
		t.Fatal(err)
	}
	want[logPath] = post(10)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve exited with %v after SIGTERM", err)
	}
	for file, ids := range want {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for line := range strings.Lines(string(b)) {
			var l struct {
				RequestID string `json:"request_id"`
			}
			if err := json.Unmarshal([]byte(line), &l); err != nil {
				t.Fatalf("%s: line %.80q: %v", filepath.Base(file), line, err)
			}
			got = append(got, l.RequestID)
		}
		if !slices.Equal(got, ids) {
			t.Errorf("%s has the lines of %v; want %v", filepath.Base(file), got, ids)
		}
	}
}

// trainChurn trains a logistic model of mlc_churn registered as "churn"
// in dir's store and returns its version.
func trainChurn(t *testing.T, dir string) string {
	t.Helper()
	code, out, errs := cli(t, dir, "train", "--data", testdata("mlc_churn.csv"), "--target", "churn", "--models", "logistic",
		"--cv-folds", "0", "--name", "churn", "--out", filepath.Join(dir, "models"), "--set", "force_production_quality=false", "--json")
	var res struct {
		ModelVersion string `json:"model_version"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("train: %d %s %s", code, out, errs)
	}
	return res.ModelVersion
}
