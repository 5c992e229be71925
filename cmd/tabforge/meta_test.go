package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/meta"
)

type adviceJSON struct {
	Dataset    string   `json:"dataset"`
	Known      int      `json:"known"`
	Far        bool     `json:"far"`
	Nearest    *float64 `json:"nearest"`
	Threshold  float64  `json:"threshold"`
	Neighbours []struct {
		Key      string  `json:"key"`
		Distance float64 `json:"distance"`
	} `json:"neighbours"`
	Configs []struct {
		Family string  `json:"family"`
		Score  float64 `json:"score"`
		Source string  `json:"source"`
	} `json:"configs"`
	Features struct {
		Values map[string]float64 `json:"values"`
	} `json:"features"`
}

// TestMetaShow trains through the CLI, then asks meta show about the same
// table (known: nearest at distance 0, its configurations listed) and
// about a synthetic table unlike it (far from known).
func TestMetaShow(t *testing.T) {
	dir := t.TempDir()
	mpg := testdata("corpus/ggplot2_mpg.csv")
	if code, _, errs := cli(t, dir, "train", "--data", mpg, "--target", "hwy", "--models", "ridge,tree", "--cv-folds", "3",
		"--profile", "development", "--out", filepath.Join(dir, "models")); code != 0 {
		t.Fatalf("train: exit %d\n%s", code, errs)
	}
	show := func(data string) adviceJSON {
		t.Helper()
		code, out, errs := cli(t, dir, "meta", "show", "--data", data, "--target", "hwy", "--json", "--shipped=false")
		if code != 0 {
			t.Fatalf("meta show: exit %d\n%s", code, errs)
		}
		var a adviceJSON
		if err := json.Unmarshal([]byte(out), &a); err != nil {
			t.Fatalf("meta show --json: %v\n%s", err, out)
		}
		return a
	}
	a := show(mpg)
	if a.Known != 1 || a.Far || a.Nearest == nil || *a.Nearest != 0 || len(a.Neighbours) != 1 || a.Neighbours[0].Key != a.Dataset {
		t.Errorf("same table: %+v; want its own record at distance 0", a)
	}
	// 187 of mpg's 234 rows: the training part left by the default 20%
	// holdout, which train records and asks about.
	if len(a.Configs) != 2 || a.Features.Values["rows"] != 187 {
		t.Errorf("same table: configs %+v, rows %v; want ridge and tree, 187 rows", a.Configs, a.Features.Values["rows"])
	}

	unlike := filepath.Join(dir, "unlike.csv")
	var b strings.Builder
	b.WriteString("hwy")
	for j := range 40 {
		fmt.Fprintf(&b, ",c%d", j)
	}
	b.WriteString("\n")
	for i := range 120 {
		fmt.Fprintf(&b, "%g", math.Tan(float64(i*37%120)/120*3-1.5)*1e4)
		for j := range 40 {
			if (i+j)%3 == 0 {
				b.WriteString(",")
			} else {
				fmt.Fprintf(&b, ",L%d", (i*7+j*13)%90)
			}
		}
		b.WriteString("\n")
	}
	if err := os.WriteFile(unlike, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if a := show(unlike); !a.Far || a.Known != 1 {
		t.Errorf("unlike table: far %v, nearest %v, threshold %v; want far", a.Far, *a.Nearest, a.Threshold)
	}

	code, out, errs := cli(t, dir, "meta", "show", "--data", mpg, "--target", "hwy")
	if code != 0 || !strings.Contains(out, "verdict: near known datasets") || !strings.Contains(out, "landmark_1nn") {
		t.Errorf("meta show: exit %d\n%s\n%s", code, out, errs)
	}
	if code, _, _ := cli(t, dir, "meta", "show", "--data", mpg); code != 2 {
		t.Errorf("meta show without --target: exit %d; want 2", code)
	}
	// Nonsense counts and rankers were silently replaced by defaults.
	for _, args := range [][]string{
		{"meta", "show", "--data", mpg, "--target", "hwy", "--k", "-1"},
		{"meta", "show", "--data", mpg, "--target", "hwy", "--top", "0"},
		{"meta", "eval", "--ranker", "neighbors"},
		{"meta", "eval", "--corpus", testdata("corpus"), "--only", "nosuch.csv"},
		{"meta", "eval", "--corpus", testdata("corpus"), "--trials", "-1"},
		{"meta", "eval", "--corpus", testdata("corpus"), "--sample", "-2"},
		{"meta", "build", "--data", mpg + ":hwy", "--folds", "-1", "--out", filepath.Join(dir, "folds.json.gz")},
		{"meta", "build", "--data", mpg + ":hwy", "--jobs", "0", "--out", filepath.Join(dir, "jobs.json.gz")},
		{"meta", "build", "--data", mpg + ":hwy", "--max-rows", "-5", "--out", filepath.Join(dir, "rows.json.gz")},
	} {
		if code, _, errs := cli(t, dir, args...); code != 2 {
			t.Errorf("%v: exit %d %q; want 2", args, code, errs)
		}
	}
	// A build where every dataset fails writes nothing and exits 1.
	kb := filepath.Join(dir, "kb.json.gz")
	if code, _, errs := cli(t, dir, "meta", "build", "--data", filepath.Join(dir, "nosuch.csv")+":y", "--out", kb); code != 1 || !strings.Contains(errs, "every dataset failed") {
		t.Errorf("meta build of only failing datasets: exit %d %q; want 1", code, errs)
	}
	if _, err := os.Stat(kb); err == nil {
		t.Error("meta build of only failing datasets wrote a knowledge base")
	}
	// One failing of two: the other is written, the failure listed, and
	// the exit is 1 as for watch --once (it was 0: cron saw success).
	code, out, errs = cli(t, dir, "meta", "build", "--data", mpg+":hwy", "--data", filepath.Join(dir, "nosuch.csv")+":y", "--out", kb, "--max-rows", "100", "--folds", "2")
	if code != 1 || !strings.Contains(errs, "1 of 2 datasets failed") || !strings.Contains(out, "failed "+filepath.Join(dir, "nosuch.csv")) {
		t.Errorf("meta build with one failing dataset: exit %d\n%s%s; want 1, the failure listed", code, out, errs)
	}
	if s, err := meta.ReadSnapshotFile(kb); err != nil || len(s.Datasets) != 1 {
		t.Errorf("meta build with one failing dataset wrote %v (%v); want the other dataset", s, err)
	}
}

// TestMetaShowSplitFlags: meta show takes train's split flags and
// describes the training part a run with them asks about. It had none
// (--time-column was an unknown flag), so a temporal run's training part
// could not be described: only the default random holdout's.
func TestMetaShowSplitFlags(t *testing.T) {
	dir := t.TempDir()
	mpg := testdata("corpus/ggplot2_mpg.csv")
	if code, _, errs := cli(t, dir, "train", "--data", mpg, "--target", "hwy", "--time-column", "year", "--models", "ridge",
		"--cv-folds", "3", "--profile", "development", "--out", filepath.Join(dir, "models")); code != 0 {
		t.Fatalf("train: exit %d\n%s", code, errs)
	}
	show := func(flags ...string) adviceJSON {
		t.Helper()
		args := append([]string{"meta", "show", "--data", mpg, "--target", "hwy", "--json", "--shipped=false"}, flags...)
		code, out, errs := cli(t, dir, args...)
		if code != 0 {
			t.Fatalf("meta show %v: exit %d\n%s", flags, code, errs)
		}
		var a adviceJSON
		if err := json.Unmarshal([]byte(out), &a); err != nil {
			t.Fatalf("meta show --json: %v\n%s", err, out)
		}
		return a
	}
	// mpg's 234 rows are 117 of 1999 and 117 of 2008: split by year, a
	// run trains on 1999's, and recorded them, so they are at distance 0.
	if a := show("--time-column", "year"); a.Features.Values["rows"] != 117 || a.Nearest == nil || *a.Nearest != 0 {
		t.Errorf("meta show --time-column year: %v rows, nearest %v; want 117 rows at distance 0", a.Features.Values["rows"], a.Nearest)
	}
	// A random holdout of half the rows leaves 117 too.
	if a := show("--test-fraction", "0.5", "--seed", "3"); a.Features.Values["rows"] != 117 {
		t.Errorf("meta show --test-fraction 0.5: %v rows; want 117", a.Features.Values["rows"])
	}
}

// TestMetaExportImport trains into one SQLite store, exports its
// knowledge base, imports it into an empty store and exports again: the
// two files are the same bytes and the second store knows the dataset. A
// file that is not a knowledge base is refused and writes nothing.
func TestMetaExportImport(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	mpg := testdata("corpus/ggplot2_mpg.csv")
	if code, _, errs := cli(t, src, "train", "--data", mpg, "--target", "hwy", "--models", "ridge,tree", "--cv-folds", "3",
		"--profile", "development", "--out", filepath.Join(src, "models")); code != 0 {
		t.Fatalf("train: exit %d\n%s", code, errs)
	}
	first, second := filepath.Join(src, "kb.json.gz"), filepath.Join(dst, "kb.json.gz")
	if code, out, errs := cli(t, src, "meta", "export", "--out", first); code != 0 || !strings.Contains(out, "1 datasets") {
		t.Fatalf("meta export: exit %d\n%s%s", code, out, errs)
	}
	// A directory as --out is said to be one; it was "meta: rename
	// ./.meta-snapshot-123 DIR: file exists".
	if code, _, errs := cli(t, src, "meta", "export", "--out", dst); code != 1 || !strings.Contains(errs, dst+": is a directory; give a file name") {
		t.Errorf("meta export --out DIR: exit %d, %s; want 1, naming the directory", code, errs)
	}
	bad := filepath.Join(dst, "bad.json.gz")
	if err := os.WriteFile(bad, []byte("not gzip"), 0o644); err != nil {
		t.Fatal(err)
	}
	// It said "meta: snapshot: unexpected EOF" (gzip's, of a short file).
	if code, _, errs := cli(t, dst, "meta", "import", bad); code != 1 || !strings.Contains(errs, "not a knowledge base file (gzip JSON") {
		t.Errorf("meta import of a bad file: exit %d, %s; want 1, saying it is not a knowledge base file", code, errs)
	}
	if code, out, errs := cli(t, dst, "meta", "import", first); code != 0 || !strings.Contains(out, "1 datasets") {
		t.Fatalf("meta import: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := cli(t, dst, "meta", "export", "--out", second); code != 0 {
		t.Fatalf("meta export after import: exit %d\n%s%s", code, out, errs)
	}
	a, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(second)
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Errorf("the knowledge base changed in the round trip (%d bytes, then %d)", len(a), len(b))
	}
	code, out, errs := cli(t, dst, "meta", "show", "--data", mpg, "--target", "hwy", "--json", "--shipped=false")
	if code != 0 {
		t.Fatalf("meta show: exit %d\n%s", code, errs)
	}
	var adv adviceJSON
	if err := json.Unmarshal([]byte(out), &adv); err != nil {
		t.Fatal(err)
	}
	if adv.Known != 1 || adv.Nearest == nil || *adv.Nearest != 0 || len(adv.Configs) == 0 {
		t.Errorf("imported store: %+v; want the trained table known at distance 0 with its configurations", adv)
	}
}
