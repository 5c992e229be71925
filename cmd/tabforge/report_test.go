package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportNeedsItsRun: `tabforge report RUN` fails, writing nothing,
// when it cannot re-derive the run's predictions (its data changed, its
// model is gone or corrupt). It used to exit 0 after replacing the
// complete report train wrote with one from the run record alone.
func TestReportNeedsItsRun(t *testing.T) {
	for _, c := range []struct {
		name  string
		spoil func(t *testing.T, data, model string)
		want  string
	}{
		{"data changed", func(t *testing.T, data, _ string) { appendLine(t, data, readCSV(t, data)[1]) }, "has changed since run"},
		{"model removed", func(t *testing.T, _, model string) {
			if err := os.Remove(model); err != nil {
				t.Fatal(err)
			}
		}, "no such file"},
		{"model corrupt", func(t *testing.T, _, model string) {
			if err := os.WriteFile(model, []byte("not a model"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "not a tabforge model file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			data := filepath.Join(dir, "mpg.csv")
			src, err := os.ReadFile(testdata("corpus/ggplot2_mpg.csv"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(data, src, 0o644); err != nil {
				t.Fatal(err)
			}
			res := quickTrain(t, dir, data, "hwy", "ridge")
			before, err := os.ReadFile(res.Report)
			if err != nil {
				t.Fatal(err)
			}
			c.spoil(t, data, res.ModelPath)
			code, _, stderr := tabforge(t, dir, "report", res.RunID)
			if code != 1 || !strings.Contains(stderr, c.want) || !strings.Contains(stderr, "nothing written") {
				t.Errorf("report: exit %d, stderr %q; want 1, %q and nothing written", code, stderr, c.want)
			}
			if after, err := os.ReadFile(res.Report); err != nil || !bytes.Equal(before, after) {
				t.Errorf("train's report changed (%v)", err)
			}
		})
	}
}

// appendLine appends one CSV record to path.
func appendLine(t *testing.T, path string, record []string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(`"` + strings.Join(record, `","`) + "\"\n"); err != nil {
		t.Fatal(err)
	}
}

// TestReportFromAnotherDirectory: `tabforge report RUN` run from another
// directory than train's reads the run's data by the absolute path its
// record keeps, and writes beside its model, where train wrote its
// report. It read the config's relative --data, which named nothing
// there ("open mw.csv: no such file or directory").
func TestReportFromAnotherDirectory(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "mw.csv")
	src, err := os.ReadFile(testdata("midwest.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(data, src, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	code, out, errs := cli(t, dir, "train", "--data", "mw.csv", "--target", "percbelowpoverty", "--models", "ridge", "--cv-folds", "0",
		"--out", "models", "--json", "--set", "min_r2_threshold=0", "--set", "min_business_accuracy=0")
	var res struct {
		RunID string `json:"run_id"`
	}
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil {
		t.Fatalf("train: exit %d, %v\n%s", code, err, errs)
	}
	want := filepath.Join(dir, "models", res.RunID, "report", "report.html")
	if err := os.Remove(want); err != nil {
		t.Fatalf("train wrote no report where expected: %v", err)
	}
	t.Chdir(t.TempDir())
	code, out, errs = cli(t, dir, "report", res.RunID)
	if code != 0 || strings.TrimSpace(out) != want {
		t.Fatalf("report from another directory: exit %d\n%s%s; want %s written", code, out, errs, want)
	}
	if _, err := os.Stat(want); err != nil {
		t.Errorf("report from another directory: %v", err)
	}
}
