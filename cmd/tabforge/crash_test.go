package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary builds tabforge into dir for tests that need real processes.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go tool is not on PATH; cannot build the binary for process tests")
	}
	bin := filepath.Join(dir, "tabforge")
	cmd := exec.Command(goTool, "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type runRow struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

func runRows(t *testing.T, dir string) []runRow {
	t.Helper()
	code, out, errs := cli(t, dir, "runs", "list", "--json", "--limit", "0")
	if code == 1 && strings.Contains(errs, "no store at ") {
		return nil // the train has not created its store yet
	}
	if code != 0 {
		t.Fatalf("runs list: exit %d\n%s", code, errs)
	}
	var rows []runRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("runs list --json: %v\n%s", err, out)
	}
	return rows
}

// TestKilledAndConcurrentRuns uses real processes on one SQLite store: a
// train killed with SIGKILL mid-run leaves the store readable, every saved
// model loadable, and reads as interrupted once its lease lapses; two
// trains at once both succeed; the killed command then reruns cleanly.
func TestKilledAndConcurrentRuns(t *testing.T) {
	dir := t.TempDir()
	bin := buildBinary(t, t.TempDir())
	common := []string{"--store", "sqlite://" + filepath.Join(dir, "tf.db"), "--set", "artifacts=" + filepath.Join(dir, "artifacts"),
		"--set", "run_lease=1s", "--set", "force_production_quality=false", "--out", filepath.Join(dir, "models")}
	slow := append([]string{"train", "--data", testdata("ames.csv"), "--target", "Sale_Price", "--models", "gbdt,forest", "--cv-folds", "5"}, common...)
	start := func(args []string) (*exec.Cmd, *bytes.Buffer) {
		var errb bytes.Buffer
		c := exec.Command(bin, args...)
		c.Stderr = &errb
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		return c, &errb
	}

	victim, victimErr := start(slow)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if rows := runRows(t, dir); len(rows) == 1 && rows[0].Status == "running" {
			break
		}
		if time.Now().After(deadline) {
			victim.Process.Kill()
			t.Fatalf("the run never showed as running\n%s", victimErr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(700 * time.Millisecond) // into candidate training
	if err := victim.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	victim.Wait()
	time.Sleep(1500 * time.Millisecond) // past the 1 s lease
	rows := runRows(t, dir)
	if len(rows) != 1 || rows[0].Status != "interrupted" {
		t.Errorf("after SIGKILL runs list = %+v; want one interrupted run", rows)
	}
	checkSavedModels(t, dir)

	b, bErr := start(append([]string{"train", "--data", testdata("credit_data.csv"), "--target", "Status", "--models", "logistic", "--cv-folds", "2"}, common...))
	c, cErr := start(slow)
	if err := b.Wait(); err != nil {
		t.Errorf("concurrent train on credit_data: %v\n%s", err, bErr)
	}
	if err := c.Wait(); err != nil {
		t.Errorf("concurrent rerun of the killed train: %v\n%s", err, cErr)
	}
	succeeded := 0
	for _, r := range runRows(t, dir) {
		if r.Status == "succeeded" {
			succeeded++
		}
	}
	if succeeded != 2 {
		t.Errorf("runs list = %+v; want both concurrent runs succeeded", runRows(t, dir))
	}
	checkSavedModels(t, dir)
}

// checkSavedModels loads every model file under dir/models: a kill must
// never leave a torn file under a model's name.
func checkSavedModels(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(filepath.Join(dir, "models"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".tfm") {
			return nil
		}
		if code, _, errs := cli(t, dir, "predict", "--model", path, "--data", testdata("ames.csv"), "--out", filepath.Join(t.TempDir(), "p.csv")); code != 0 && !strings.Contains(errs, "column") {
			t.Errorf("saved model %s does not load: %s", path, errs)
		}
		return nil
	})
}
