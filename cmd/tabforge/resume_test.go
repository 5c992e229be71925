package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
