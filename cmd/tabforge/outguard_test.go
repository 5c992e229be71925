package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/frame"
)

// TestHTMLIsNotAnInput checks that drift and backtest refuse an --html
// page that is one of their input files (by path or through a link), as
// bad usage that leaves the file as it was: the page used to replace the
// data.
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
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{"ref.csv": writeRows(t, dir, "ref.csv", f, seq(0, n/2)),
				"cur.csv": writeRows(t, dir, "cur.csv", f, seq(n/2, n)), "link.csv": filepath.Join(dir, "link.csv")}
			if err := os.Symlink(files["cur.csv"], files["link.csv"]); err != nil {
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
