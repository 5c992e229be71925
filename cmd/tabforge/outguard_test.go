package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/frame"
)

// TestHTMLIsNotAnInput checks that drift and backtest refuse an --html
// page that is one of their input files (by path or through a link), or
// a directory, as bad usage that leaves the file as it was: the page used
// to replace the data.
func TestHTMLIsNotAnInput(t *testing.T) {
	f, err := frame.ReadFile(testdata("txhousing.csv"), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := f.NumRows()
	for _, c := range []struct {
		name string
		// args name the files "ref.csv", "cur.csv" and "link.csv" (a
		// link to cur.csv), made afresh for each case.
		args  []string
		input string
		want  string
	}{
		{"drift reference", []string{"drift", "--reference", "ref.csv", "--current", "cur.csv", "--html", "ref.csv"}, "ref.csv", "ref.csv is the --reference file"},
		{"drift current", []string{"drift", "--reference", "ref.csv", "--current", "cur.csv", "--html", "cur.csv"}, "cur.csv", "cur.csv is the --current file"},
		{"drift link", []string{"drift", "--reference", "ref.csv", "--current", "cur.csv", "--html", "link.csv"}, "cur.csv", "link.csv is the --current file"},
		{"backtest data", []string{"backtest", "--data", "ref.csv", "--target", "median", "--time-column", "date",
			"--every", "month", "--start", "2010-01-01", "--models", "ridge", "--html", "ref.csv"}, "ref.csv", "ref.csv is the --data file"},
		// A directory was found only when the page was written, after the
		// whole backtest, whose results went with the error.
		{"backtest directory", []string{"backtest", "--data", "ref.csv", "--target", "median", "--time-column", "date",
			"--every", "month", "--start", "2010-01-01", "--models", "ridge", "--html", "sub"}, "ref.csv", "sub is a directory; give a file name"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{"ref.csv": writeRows(t, dir, "ref.csv", f, seq(0, n/2)),
				"cur.csv": writeRows(t, dir, "cur.csv", f, seq(n/2, n)), "link.csv": filepath.Join(dir, "link.csv"), "sub": filepath.Join(dir, "sub")}
			if err := os.Symlink(files["cur.csv"], files["link.csv"]); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(files["sub"], 0o755); err != nil {
				t.Fatal(err)
			}
			args := make([]string, len(c.args))
			for i, a := range c.args {
				if p, ok := files[a]; ok {
					a = p
				}
				args[i] = a
			}
			before, err := os.ReadFile(files[c.input])
			if err != nil {
				t.Fatal(err)
			}
			code, _, stderr := tabforge(t, dir, args...)
			if code != 2 || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, c.want)
			}
			if after, err := os.ReadFile(files[c.input]); err != nil || !bytes.Equal(before, after) {
				t.Errorf("%s changed (%v)", c.input, err)
			}
		})
	}
}

// seq is lo, lo+1, ..., hi-1.
func seq(lo, hi int) []int {
	out := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}

// TestOutIsNotTheModel checks that predict, explain and export refuse an
// --out that is the --model file, and import one that is its --in file,
// as bad usage that leaves the file as it was: predict used to replace a
// saved model with its predictions.
func TestOutIsNotTheModel(t *testing.T) {
	dir := t.TempDir()
	trained := quickTrain(t, dir, testdata("credit_data.csv"), "Status", "gbdt").ModelPath
	xgb := filepath.Join(dir, "model.json")
	if code, _, stderr := tabforge(t, dir, "export", "--model", trained, "--out", xgb); code != 0 {
		t.Fatalf("export: exit %d: %s", code, stderr)
	}
	data := testdata("credit_data.csv")
	for _, c := range []struct {
		name string
		args []string // "M" is the file under test
		file string   // what M is a copy of
		want string
	}{
		{"predict", []string{"predict", "--model", "M", "--data", data, "--out", "M"}, trained, "is the --model file"},
		{"explain", []string{"explain", "--model", "M", "--data", data, "--rows", "0", "--out", "M"}, trained, "is the --model file"},
		{"export", []string{"export", "--model", "M", "--out", "M"}, trained, "is the --model file"},
		{"import", []string{"import", "--in", "M", "--out", "M"}, xgb, "is the --in file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			// explain writes only .csv or .parquet names, so the model
			// file is given one: a model file may have any name.
			m := filepath.Join(t.TempDir(), "model.csv")
			before, err := os.ReadFile(c.file)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(m, before, 0o644); err != nil {
				t.Fatal(err)
			}
			args := slices.Clone(c.args)
			for i, a := range args {
				if a == "M" {
					args[i] = m
				}
			}
			code, _, stderr := tabforge(t, dir, args...)
			if code != 2 || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, c.want)
			}
			if after, err := os.ReadFile(m); err != nil || !bytes.Equal(before, after) {
				t.Errorf("%s changed the file it read (%v)", c.name, err)
			}
		})
	}
}

// TestPredictInterrupted runs predict under a context already cancelled,
// as after Ctrl-C: it must fail and leave --out as it was. Prediction
// takes no context, so predict used to finish, replace --out and exit 0.
func TestPredictInterrupted(t *testing.T) {
	dir := t.TempDir()
	m := quickTrain(t, dir, testdata("credit_data.csv"), "Status", "logistic").ModelPath
	out := filepath.Join(dir, "p.csv")
	if err := os.WriteFile(out, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var o, e bytes.Buffer
	code := run(ctx, []string{"predict", "--store", "sqlite://" + filepath.Join(dir, "tf.db"), "--model", m,
		"--data", testdata("credit_data.csv"), "--out", out}, &o, &e)
	if code != 1 || !strings.Contains(e.String(), "interrupted") {
		t.Errorf("interrupted predict: exit %d, stderr %q; want 1 and a message saying it was interrupted", code, e.String())
	}
	if got, _ := os.ReadFile(out); string(got) != "old\n" {
		t.Errorf("--out after an interrupted predict reads %.40q; want it untouched", got)
	}
}
