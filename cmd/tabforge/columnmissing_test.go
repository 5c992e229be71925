package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/frame"
)

// TestColumnMissingCommands: train --set missing_values={Income: ["0"]}
// (and the same in TABFORGE_MISSING_VALUES) on credit data whose unknown
// incomes are written as 0 reads them as missing: the dataset version is
// that of the same rows with those incomes empty. predict then reads the
// file with the model's texts, writing what it writes for the rows with
// empty incomes. A column the data lacks is refused, with the closest
// one suggested.
func TestColumnMissingCommands(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(testdata("credit_data.csv"))
	if err != nil {
		t.Fatal(err)
	}
	blank := filepath.Join(dir, "credit_blank.csv")
	if err := os.WriteFile(blank, []byte(strings.Join(strings.SplitAfter(string(src), "\n")[:601], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := frame.ReadFile(blank, frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data := testdata("credit_income0.csv")
	res := quickTrain(t, dir, data, "Status", "logistic", "--set", `missing_values={Income: ["0"]}`)
	if res.DatasetHash != f.Hash() {
		t.Errorf("train --set: dataset %.12s; want %.12s, that of the rows with the unknown incomes empty", res.DatasetHash, f.Hash())
	}
	t.Setenv("TABFORGE_MISSING_VALUES", `{"*": [NA], Income: ["0"]}`)
	if env := quickTrain(t, dir, data, "Status", "logistic"); env.DatasetHash != f.Hash() {
		t.Errorf("train with TABFORGE_MISSING_VALUES: dataset %.12s; want %.12s", env.DatasetHash, f.Hash())
	}
	os.Unsetenv("TABFORGE_MISSING_VALUES") // t.Setenv restores it (unset) at the end

	preds := map[string]string{}
	for _, in := range []string{data, blank} {
		out := filepath.Join(dir, filepath.Base(in)+".pred.csv")
		if code, _, stderr := tabforge(t, dir, "predict", "--model", res.ModelPath, "--data", in, "--out", out); code != 0 {
			t.Fatalf("predict %s: exit %d\n%s", in, code, stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		preds[in] = string(b)
	}
	if preds[data] != preds[blank] || strings.Count(preds[data], "\n") != 601 {
		t.Errorf("predict wrote %d lines for incomes written 0, which differ from those for them empty: the model's texts were not used",
			strings.Count(preds[data], "\n"))
	}

	code, _, stderr := tabforge(t, dir, "train", "--data", data, "--target", "Status", "--models", "logistic", "--out", dir,
		"--set", `missing_values={income: ["0"]}`)
	if code == 0 || !strings.Contains(stderr, `missing_values "income" (did you mean "Income"?)`) {
		t.Errorf("train with a column the data lacks: exit %d\n%s\nwant missing_values \"income\" refused, Income suggested", code, stderr)
	}
}
