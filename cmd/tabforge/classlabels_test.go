package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// penguinCodes writes the penguins with their species recoded as the
// numbers codes gives, in dir, and returns the file.
func penguinCodes(t *testing.T, dir string, codes map[string]string) string {
	t.Helper()
	src, err := os.ReadFile(testdata("corpus/palmerpenguins_penguins.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(src), "\n"), "\n")
	for i, l := range lines[1:] {
		species, rest, _ := strings.Cut(l, ",")
		code, ok := codes[species]
		if !ok {
			t.Fatalf("penguins row %d: species %s has no code", i+1, species)
		}
		lines[i+1] = code + "," + rest
	}
	path := filepath.Join(dir, "penguin_codes.csv")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestNumberClassLabels: class codes of seven digits keep their digits
// through train, predict and evaluate. They were labelled in Go's
// shortest %g form, so train listed the classes 1e+06, 2.000001e+06 and
// 3.5e+06, predict wrote prob_1e+06 and predicted "1e+06" for rows whose
// data says 1000000.
func TestNumberClassLabels(t *testing.T) {
	dir := t.TempDir()
	data := penguinCodes(t, dir, map[string]string{`"Adelie"`: "1000000", `"Chinstrap"`: "2000001", `"Gentoo"`: "3500000"})
	res := quickTrain(t, dir, data, "species", "logistic", "--task", "multiclass")
	want := []string{"1000000", "2000001", "3500000"}
	if !slices.Equal(res.Classes, want) {
		t.Errorf("train --json classes = %q; want %q", res.Classes, want)
	}
	out := filepath.Join(dir, "pred.csv")
	if code, _, stderr := tabforge(t, dir, "predict", "--model", res.ModelPath, "--data", data, "--out", out); code != 0 {
		t.Fatalf("predict: exit %d\n%s", code, stderr)
	}
	pred, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// The first penguin is an Adelie, which logistic regression on bill
	// and flipper sizes does not miss.
	head := strings.SplitN(string(pred), "\n", 3)
	if head[0] != "prediction,prob_1000000,prob_2000001,prob_3500000" || !strings.HasPrefix(head[1], "1000000,") {
		t.Errorf("predict wrote\n%s\n%s\nwant the header prediction,prob_1000000,prob_2000001,prob_3500000 and 1000000 first", head[0], head[1])
	}
	code, stdout, stderr := tabforge(t, dir, "evaluate", "--model", res.ModelPath, "--data", data, "--json")
	if code != 0 || !strings.Contains(stdout, `"rows":344`) {
		t.Errorf("evaluate: exit %d, %s\n%s; want the 344 penguins scored", code, stdout, stderr)
	}
}

// TestClassListsQuoted: errors listing a model's classes quote each one.
// Printed with %v, the species "Adelie penguin", "Chinstrap, bearded" and
// " Gentoo " ran together into [ Gentoo  Adelie penguin Chinstrap,
// bearded], where no reader can tell how many classes there are.
func TestClassListsQuoted(t *testing.T) {
	dir := t.TempDir()
	data := penguinCodes(t, dir, map[string]string{`"Adelie"`: `"Adelie penguin"`, `"Chinstrap"`: `"Chinstrap, bearded"`, `"Gentoo"`: `" Gentoo "`})
	classes := `[" Gentoo " "Adelie penguin" "Chinstrap, bearded"]`
	m := quickTrain(t, dir, data, "species", "logistic").ModelPath
	// The same penguins, the Gentoos recoded as a class the model never saw.
	raw, err := os.ReadFile(data)
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.csv")
	if err := os.WriteFile(other, []byte(strings.ReplaceAll(string(raw), `" Gentoo "`, `"Emperor"`)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := tabforge(t, dir, "evaluate", "--model", m, "--data", other)
	if want := `label "Emperor" was not seen in training (the model's classes: ` + classes + ")"; code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("evaluate with an unseen class: exit %d\n%s\nwant exit 1 and %s", code, stderr, want)
	}
	binary := filepath.Join(dir, "two.csv")
	var two []string
	for l := range strings.Lines(string(raw)) {
		if !strings.HasPrefix(l, `" Gentoo "`) {
			two = append(two, l)
		}
	}
	if err := os.WriteFile(binary, []byte(strings.Join(two, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = tabforge(t, dir, "train", "--data", binary, "--target", "species", "--positive-class", "Adelie", "--models", "logistic", "--cv-folds", "0", "--out", dir)
	if want := `positive class "Adelie" is not one of ["Adelie penguin" "Chinstrap, bearded"]`; code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("train with an unknown positive class: exit %d\n%s\nwant exit 1 and %s", code, stderr, want)
	}
}

// TestExplainNamesPositiveClass: a binary classifier's SHAP values
// explain its positive class, and explain says which. credit's positive
// class "bad" sorts before "good", where scikit-learn's convention
// (classes_[1]) would read "good"; explain named no class at all.
func TestExplainNamesPositiveClass(t *testing.T) {
	dir := t.TempDir()
	m := quickTrain(t, dir, testdata("credit_data.csv"), "Status", "logistic").ModelPath
	code, stdout, stderr := tabforge(t, dir, "explain", "--model", m, "--data", testdata("credit_data.csv"), "--rows", "0-2", "--json")
	if code != 0 {
		t.Fatalf("explain --json: exit %d\n%s", code, stderr)
	}
	var s struct {
		Outputs []string `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Outputs, []string{"bad"}) {
		t.Errorf("explain --json outputs = %q; want [bad], the positive class", s.Outputs)
	}
	code, stdout, stderr = tabforge(t, dir, "explain", "--model", m, "--data", testdata("credit_data.csv"), "--rows", "0-2")
	if code != 0 || !strings.Contains(stdout, "base value for bad: ") {
		t.Errorf("explain: exit %d\n%s%s\nwant the base value named for bad", code, stdout, stderr)
	}
}
