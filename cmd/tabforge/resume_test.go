package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/store/sqlite"
)

// TestResumeFromAnotherDirectory: train --resume RUN reads the data the
// run read, by the absolute path its record keeps, from any directory;
// it read the config's relative --data, so from another directory it
// resumed the run on another file of that name and recorded that one as
// the run's data. Data that changed since is refused, the record kept.
func TestResumeFromAnotherDirectory(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	src, err := os.ReadFile(testdata("midwest.csv"))
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "mw.csv")
	if err := os.WriteFile(data, src, 0o644); err != nil {
		t.Fatal(err)
	}
	// Another table of the same name and columns: midwest less its last row.
	if err := os.WriteFile(filepath.Join(other, "mw.csv"), src[:strings.LastIndex(strings.TrimRight(string(src), "\n"), "\n")+1], 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	// The default gates fail ridge here (within20 67 < 70): a failed run,
	// which can be resumed.
	code, out, errs := cli(t, dir, "train", "--data", "mw.csv", "--target", "percbelowpoverty", "--models", "ridge", "--cv-folds", "0",
		"--out", filepath.Join(dir, "models"), "--json")
	var res struct {
		RunID       string `json:"run_id"`
		DatasetHash string `json:"dataset_hash"`
	}
	if err := json.Unmarshal([]byte(out), &res); code != 1 || err != nil || res.RunID == "" {
		t.Fatalf("train: exit %d, %v\n%s%s; want 1 (gates) and a run", code, err, out, errs)
	}
	recorded := func() (path, hash string) {
		t.Helper()
		code, out, errs := cli(t, dir, "runs", "show", res.RunID)
		var r struct {
			Path string `json:"dataset_path"`
			Hash string `json:"dataset_hash"`
		}
		if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil {
			t.Fatalf("runs show: exit %d, %v\n%s", code, err, errs)
		}
		return r.Path, r.Hash
	}
	_, hash := recorded()

	t.Chdir(other)
	if code, _, errs := cli(t, dir, "train", "--resume", res.RunID); code != 1 || strings.Contains(errs, "resume") {
		t.Errorf("resume from another directory: exit %d\n%s; want the run again (1, its gates)", code, errs)
	}
	if p, h := recorded(); p != data || h != hash {
		t.Errorf("after resuming from another directory the run's data is %s (%.12s); want %s (%.12s)", p, h, data, hash)
	}
	appendLine(t, data, readCSV(t, data)[1])
	if code, _, errs := cli(t, dir, "train", "--resume", res.RunID); code != 1 || !strings.Contains(errs, "is not the data the run read") {
		t.Errorf("resume on changed data: exit %d\n%s; want it refused", code, errs)
	}
	if p, h := recorded(); p != data || h != hash {
		t.Errorf("a refused resume changed the run's data to %s (%.12s)", p, h)
	}
}

// TestResumeReadsTestRowsWhereTheRunDid: train --resume RUN from another
// directory reads the run's relative --test-rows from the directory the
// run started in, as it does its data; it read them from the new working
// directory, another file of the same name, and tested on other rows.
// A test-rows file that changed since is refused, naming it; a run
// recorded before runs kept their input files resumes from its own
// directory as before.
func TestResumeReadsTestRowsWhereTheRunDid(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	src, err := os.ReadFile(testdata("midwest.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mw.csv"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	rowsFile := func(d string, n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintln(&b, i)
		}
		path := filepath.Join(d, "rows.txt")
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	rows := rowsFile(dir, 100)
	rowsFile(other, 30) // same name, other rows
	// train runs args and returns the exit code, the run's id and test
	// rows (zero when it printed no result) and stderr.
	train := func(args ...string) (code int, id string, testRows int, errs string) {
		t.Helper()
		code, out, errs := cli(t, dir, append(args, "--json")...)
		var res struct {
			RunID    string `json:"run_id"`
			TestRows int    `json:"test_rows"`
		}
		_ = json.Unmarshal([]byte(out), &res) // a refused run prints none
		return code, res.RunID, res.TestRows, errs
	}
	t.Chdir(dir)
	// An unreachable gate fails the run, which can then be resumed.
	code, id, n, errs := train("train", "--data", "mw.csv", "--target", "percbelowpoverty", "--models", "ridge", "--cv-folds", "0",
		"--test-rows", "rows.txt", "--set", "min_business_accuracy=100", "--out", filepath.Join(dir, "models"))
	if code != 1 || id == "" || n != 100 {
		t.Fatalf("train: exit %d, run %q, %d test rows\n%s; want 1 (gates), a run and 100 rows", code, id, n, errs)
	}

	t.Chdir(other)
	if code, _, n, errs := train("train", "--resume", id); code != 1 || n != 100 {
		t.Errorf("resume from another directory: exit %d, %d test rows\n%s; want 1 and the run's 100 rows", code, n, errs)
	}
	if err := os.WriteFile(rows, []byte("1\n2\n3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, _, errs := train("train", "--resume", id); code != 1 || !strings.Contains(errs, "test_rows "+rows+" changed since the run read it") {
		t.Errorf("resume with changed test rows: exit %d\n%s; want it refused, naming %s", code, errs, rows)
	}

	// A run recorded before runs kept their input files.
	rowsFile(dir, 100)
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "tf.db"))
	if err != nil {
		t.Fatal(err)
	}
	err = st.DeleteRecord(context.Background(), pipeline.InputsKind, id)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	if code, _, n, errs := train("train", "--resume", id); code != 1 || n != 100 {
		t.Errorf("resume of a run without recorded inputs from its directory: exit %d, %d test rows\n%s; want 1 and 100", code, n, errs)
	}
}
