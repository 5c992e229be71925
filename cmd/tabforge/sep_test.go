package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/frame"
)

// TestSeparators trains on a semicolon-separated copy of ames with the
// separator detected, predicts on a tab-separated copy with --sep tab, and
// refuses an unknown separator as bad usage.
func TestSeparators(t *testing.T) {
	dir := t.TempDir()
	raw, err := os.ReadFile(testdata("ames.csv"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.SplitAfter(string(raw), "\n")[:600], "")
	semi, tab := filepath.Join(dir, "ames_semi.csv"), filepath.Join(dir, "ames_tab.csv")
	for path, sep := range map[string]string{semi: ";", tab: "\t"} {
		if err := os.WriteFile(path, []byte(strings.ReplaceAll(text, ",", sep)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	model := filepath.Join(dir, "models")
	code, out, errs := cli(t, dir, "train", "--data", semi, "--target", "Sale_Price", "--models", "ridge", "--cv-folds", "0",
		"--set", "force_production_quality=false", "--out", model, "--json")
	if code != 0 {
		t.Fatalf("train on a semicolon file: exit %d\n%s", code, errs)
	}
	path := trainedModelPath(t, out)
	for _, sep := range []string{"tab", `\t`} {
		if code, _, errs := cli(t, dir, "predict", "--model", path, "--data", tab, "--sep", sep, "--out", filepath.Join(dir, "p.csv")); code != 0 {
			t.Errorf("predict --sep %s: exit %d\n%s", sep, code, errs)
		}
	}
	if code, _, errs := cli(t, dir, "predict", "--model", path, "--data", tab, "--sep", "::", "--out", filepath.Join(dir, "p.csv")); code != 2 || !strings.Contains(errs, "separator") {
		t.Errorf("predict --sep '::': exit %d, %q; want 2 and a message naming the separator", code, errs)
	}
	if code, _, errs := cli(t, dir, "train", "--data", semi, "--target", "Sale_Price", "--sep", "::"); code != 2 || !strings.Contains(errs, "sep") {
		t.Errorf("train --sep '::': exit %d, %q; want 2 and a message naming sep", code, errs)
	}
}

// trainedModelPath reads model_path from train's --json output.
func trainedModelPath(t *testing.T, out string) string {
	t.Helper()
	var res trainJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.ModelPath == "" {
		t.Fatalf("train --json: %v\n%s", err, out)
	}
	return res.ModelPath
}

// TestAsOfTimeParts splits ames as of a date over its Year_Sold,Mo_Sold
// parts: the training rows are exactly those sold before June 2009 (2149
// of 2930, counted from the file below), and a date outside the data's
// range is one clear error naming that range.
func TestAsOfTimeParts(t *testing.T) {
	dir := t.TempDir()
	x, err := frame.ReadFile(testdata("ames.csv"), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	year, _ := x.Lookup("Year_Sold")
	month, _ := x.Lookup("Mo_Sold")
	before := 0
	for r := range x.NumRows() {
		if year.Num[r] < 2009 || year.Num[r] == 2009 && month.Num[r] < 6 {
			before++
		}
	}
	args := []string{"train", "--data", testdata("ames.csv"), "--target", "Sale_Price", "--time-column", "Year_Sold,Mo_Sold",
		"--models", "ridge", "--cv-folds", "0", "--set", "force_production_quality=false", "--out", filepath.Join(dir, "m"), "--json"}
	code, out, errs := cli(t, dir, append(args, "--as-of", "2009-06-01")...)
	if code != 0 {
		t.Fatalf("train --as-of 2009-06-01: exit %d\n%s", code, errs)
	}
	var res struct {
		TrainRows int `json:"train_rows"`
		TestRows  int `json:"test_rows"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.TrainRows != before || res.TestRows != x.NumRows()-before {
		t.Errorf("as of 2009-06-01: %d train, %d test rows; want %d and %d", res.TrainRows, res.TestRows, before, x.NumRows()-before)
	}
	code, _, errs = cli(t, dir, append(args, "--as-of", "2015-01-01")...)
	if code != 1 || !strings.Contains(errs, "Year_Sold=2010") || strings.Count(errs, "split") > 1 {
		t.Errorf("as of a date after the data: exit %d, %q; want 1 and one message naming the data's range", code, errs)
	}
}
