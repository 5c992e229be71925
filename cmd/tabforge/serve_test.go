package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
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
	code, out, errs := cli(t, dir, "train", "--data", testdata("mlc_churn.csv"), "--target", "churn", "--models", "logistic",
		"--cv-folds", "0", "--name", "churn", "--out", filepath.Join(dir, "models"), "--set", "force_production_quality=false", "--json")
	var res struct {
		ModelVersion string `json:"model_version"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("train: %d %s %s", code, out, errs)
	}
	for _, args := range [][]string{
		{"models", "promote", res.ModelVersion, "--stage", "production"},
		{"models", "route", "churn", "--split", "production=100", "--key", "state"},
	} {
		if code, out, errs := cli(t, dir, args...); code != 0 {
			t.Fatalf("%v: %d %s %s", args, code, out, errs)
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
	if err != nil || resp.StatusCode != 200 || len(got.Predictions) != len(want)-1 || resp.Header.Get("X-Model-Version") != res.ModelVersion {
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
		{[]string{"--max-concurrent", "-1"}, "--max-concurrent must not be negative"},
		{[]string{"--request-timeout", "0s"}, "--request-timeout must be positive"},
	} {
		code, _, errs := cli(t, dir, append([]string{"serve"}, tc.args...)...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("serve %v: exit %d, %q; want 2 and %q", tc.args, code, errs, tc.want)
		}
	}
}
