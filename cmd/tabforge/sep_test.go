package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
