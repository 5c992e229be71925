package main

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/frame"
)

// writeRows writes the given rows of f (all but the dropped columns) to
// a CSV file in dir.
func writeRows(t *testing.T, dir, name string, f *frame.Frame, rows []int, drop ...string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	w, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := frame.WriteCSV(w, f.Take(rows).Drop(drop...)); err != nil {
		t.Fatal(err)
	}
	return path
}

type driftJSON struct {
	DatasetDrift bool    `json:"dataset_drift"`
	DriftedShare float64 `json:"drifted_share"`
	Columns      []struct {
		Name    string `json:"name"`
		Method  string `json:"method"`
		Drifted bool   `json:"drifted"`
	} `json:"columns"`
	Target     *struct{ Name string } `json:"target"`
	Prediction *struct {
		Drifted bool `json:"drifted"`
	} `json:"prediction"`
}

// TestDriftCommand runs tabforge drift on Texas housing: 2000–04 against
// 2011–15 drifts, random halves do not, with and without a model, and a
// column missing from the current file is a clear error.
func TestDriftCommand(t *testing.T) {
	dir := t.TempDir()
	f, err := frame.ReadFile(testdata("txhousing.csv"), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	year, _ := f.Lookup("year")
	var early, late []int
	for i, y := range year.Num {
		if y <= 2004 {
			early = append(early, i)
		} else if y >= 2011 {
			late = append(late, i)
		}
	}
	perm := rand.New(rand.NewPCG(7, 7)).Perm(f.NumRows())
	earlyPath, latePath := writeRows(t, dir, "early.csv", f, early), writeRows(t, dir, "late.csv", f, late)
	halfA, halfB := writeRows(t, dir, "a.csv", f, perm[:len(perm)/2]), writeRows(t, dir, "b.csv", f, perm[len(perm)/2:])

	page := filepath.Join(dir, "drift.html")
	r := runDrift(t, dir, "--reference", earlyPath, "--current", latePath, "--target", "median", "--html", page)
	if !r.DatasetDrift || r.Target == nil || r.Target.Name != "median" || len(r.Columns) != 8 {
		t.Errorf("2000–04 vs 2011–15: %+v; want dataset drift over 8 columns and the target", r)
	}
	if b, err := os.ReadFile(page); err != nil || !strings.Contains(string(b), "DATASET DRIFT") {
		t.Errorf("--html: %v", err)
	}
	if r := runDrift(t, dir, "--reference", halfA, "--current", halfB); r.DatasetDrift || r.DriftedShare > 0.2 {
		t.Errorf("random halves: %+v; want no drift", r)
	}

	// A model: its inputs and predictions, its target found by name.
	code, out, stderr := tabforge(t, dir, "train", "--data", testdata("txhousing.csv"), "--target", "median", "--drop", "volume,date",
		"--models", "ridge", "--cv-folds", "0", "--out", filepath.Join(dir, "runs"), "--json")
	if code != 0 {
		t.Fatalf("train: exit %d\n%s", code, stderr)
	}
	var res trainJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	r = runDrift(t, dir, "--reference", earlyPath, "--current", latePath, "--model", res.ModelPath)
	if r.Prediction == nil || !r.Prediction.Drifted || r.Target == nil || len(r.Columns) != 6 {
		t.Errorf("with a model: %+v; want drifted predictions, the target, the model's 6 inputs", r)
	}
	if r := runDrift(t, dir, "--reference", halfA, "--current", halfB, "--model", res.ModelPath); r.Prediction == nil || r.Prediction.Drifted {
		t.Errorf("random halves with a model: prediction %+v; want no drift", r.Prediction)
	}

	// Text output, and the errors.
	if code, out, _ := tabforge(t, dir, "drift", "--reference", earlyPath, "--current", latePath); code != 0 || !strings.Contains(out, "dataset drift: YES") {
		t.Errorf("text output: exit %d\n%s", code, out)
	}
	noSales := writeRows(t, dir, "nosales.csv", f, late, "sales")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--reference", earlyPath, "--current", noSales}, 1, `lacks column(s) "sales"`},
		{[]string{"--reference", earlyPath, "--current", noSales, "--model", res.ModelPath}, 1, `missing column(s) "sales"`},
		{[]string{"--reference", earlyPath}, 2, "--reference and --current are required"},
		{[]string{"--reference", earlyPath, "--current", latePath, "--target", "nope"}, 1, `target column "nope"`},
	} {
		code, _, stderr := tabforge(t, dir, append([]string{"drift"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("drift %v: exit %d, stderr %q; want %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
}

func runDrift(t *testing.T, dir string, args ...string) driftJSON {
	t.Helper()
	code, out, stderr := tabforge(t, dir, append([]string{"drift", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("drift %v: exit %d\n%s", args, code, stderr)
	}
	var r driftJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("drift --json: %v\n%s", err, out)
	}
	return r
}

// TestDriftSaysWhy: a column the current data holds no value of drifts
// without a statistic; the table and the page say why instead of showing
// a statistic of 0 beside DRIFT.
func TestDriftSaysWhy(t *testing.T) {
	dir := t.TempDir()
	f, err := frame.ReadFile(testdata("txhousing.csv"), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := f.NumRows()
	ref := writeRows(t, dir, "ref.csv", f, seq(0, n/2))
	missing := make([]float64, n)
	for i := range missing {
		missing[i] = math.NaN()
	}
	empty, err := f.With(frame.NewNumeric("volume", missing))
	if err != nil {
		t.Fatal(err)
	}
	cur := writeRows(t, dir, "cur.csv", empty, seq(n/2, n))
	page := filepath.Join(dir, "drift.html")
	code, stdout, stderr := tabforge(t, dir, "drift", "--reference", ref, "--current", cur, "--html", page)
	const why = "no finite values in the current data"
	var line string
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "volume ") {
			line = l
		}
	}
	if code != 0 || !strings.Contains(line, "DRIFT") || !strings.Contains(line, why) {
		t.Errorf("exit %d, volume's line %q; want DRIFT and %q\n%s", code, line, why, stderr)
	}
	if b, err := os.ReadFile(page); err != nil || !strings.Contains(string(b), why) {
		t.Errorf("the page does not say %q (%v)", why, err)
	}
}
