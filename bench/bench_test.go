package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/linear"
)

func registry() *model.Registry {
	var r model.Registry
	for _, f := range linear.Families() {
		r.Register(f)
	}
	return &r
}

// TestRunCaseAgainstPeer runs a small case on both sides on the same data
// files and checks the two agree on the test metric: a broken data layout
// on either side would make them differ.
func TestRunCaseAgainstPeer(t *testing.T) {
	dir := t.TempDir()
	const rows = 5000
	if err := WriteData(dir, rows); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		family, peer string
		task         model.Task
	}{
		{"ridge", "sklearn_ridge", model.Regression},
		{"logistic", "sklearn_logistic", model.Binary},
	} {
		t.Run(tc.family, func(t *testing.T) {
			var buf bytes.Buffer
			if err := RunCase(context.Background(), &buf, registry(), tc.family, "", tc.task, rows, dir); err != nil {
				t.Fatal(err)
			}
			var ours CaseOutput
			if err := json.Unmarshal(buf.Bytes(), &ours); err != nil {
				t.Fatal(err)
			}
			if ours.FitSeconds <= 0 || ours.Metric < 0.6 {
				t.Errorf("tabforge %s: %+v; want a positive fit time and a metric > 0.6", tc.family, ours)
			}
			if exec.Command("/usr/bin/python3", "-c", "import sklearn, xgboost").Run() != nil {
				t.Skip("/usr/bin/python3 lacks scikit-learn/xgboost (scripts/test.sh installs them)")
			}
			script := filepath.Join(dir, "peers.py")
			os.WriteFile(script, peerScript, 0o644)
			out, err := exec.Command("/usr/bin/python3", script, "--case", tc.peer, "--rows", "5000", "--data", dir).Output()
			if err != nil {
				t.Fatal(err)
			}
			var peer CaseOutput
			if err := json.Unmarshal(lastJSON(out), &peer); err != nil {
				t.Fatal(err)
			}
			if d := ours.Metric - peer.Metric; d > 1e-3 || d < -1e-3 {
				t.Errorf("%s metric: tabforge %.5f, peer %.5f", tc.family, ours.Metric, peer.Metric)
			}
		})
	}
}

func TestReadDataTooShort(t *testing.T) {
	dir := t.TempDir()
	if err := WriteData(dir, 100); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadData(dir, 200, model.Regression); err == nil {
		t.Error("ReadData beyond the written rows succeeded; want error")
	}
}

// TestPrintTableFailedRuns: a case whose peer could not run (no numpy,
// say) is printed with its error, and the bench fails; it exited 0.
func TestPrintTableFailedRuns(t *testing.T) {
	ok := Result{Case: Case{Name: "ok", Rows: 100}, Tabforge: Measurement{FitSeconds: []float64{1}}, Peer: Measurement{FitSeconds: []float64{2}}}
	bad := Result{Case: Case{Name: "bad", Rows: 100}, Tabforge: Measurement{FitSeconds: []float64{1}}, Peer: Measurement{Err: "No module named 'numpy'"}}
	var b bytes.Buffer
	if err := PrintTable(&b, []Result{ok}); err != nil || Failed([]Result{ok}) != nil {
		t.Errorf("every run done: PrintTable = %v, Failed = %v; want nil", err, Failed([]Result{ok}))
	}
	b.Reset()
	err := PrintTable(&b, []Result{ok, bad})
	var rf *RunsFailedError
	if !errors.As(err, &rf) || rf.Failed != 1 || rf.Total != 4 {
		t.Fatalf("PrintTable = %v; want a RunsFailedError of 1 of 4", err)
	}
	if !strings.Contains(b.String(), "bad peer: No module named 'numpy'") {
		t.Errorf("table lacks the peer's error:\n%s", b.String())
	}
	if !errors.As(Failed([]Result{ok, bad}), &rf) {
		t.Error("Failed = nil with a failed peer")
	}
}
