package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/pipeline"
)

// TestMissingValuesCommands: trained with --set missing_values=[] on
// penguins whose Chinstraps are the species "NA" and whose island Dream
// is spelled "NA" (missing measurements left empty), the model keeps "NA"
// as a class, and predict (which reads its input a block at a time) and
// evaluate read the file with the model's texts, not the default that
// makes "NA" missing: predict's probabilities are the model's on the
// island "NA", with prob_NA and the class NA for a Chinstrap, and
// evaluate scores all 344 rows.
func TestMissingValuesCommands(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(testdata("corpus/palmerpenguins_penguins.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for l := range strings.Lines(string(src)) {
		fields := strings.Split(strings.TrimSuffix(l, "\n"), ",")
		for i, v := range fields {
			switch v {
			case "NA":
				fields[i] = ""
			case `"Chinstrap"`, `"Dream"`:
				fields[i] = `"NA"`
			}
		}
		b.WriteString(strings.Join(fields, ",") + "\n")
	}
	data := filepath.Join(dir, "penguins_na.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	res := quickTrain(t, dir, data, "species", "logistic", "--set", "missing_values=[]")
	if want := []string{"Adelie", "Gentoo", "NA"}; !slices.Equal(res.Classes, want) {
		t.Fatalf("train --json classes = %q; want %q", res.Classes, want)
	}
	out := filepath.Join(dir, "pred.csv")
	if code, _, stderr := tabforge(t, dir, "predict", "--model", res.ModelPath, "--data", data, "--out", out); code != 0 {
		t.Fatalf("predict: exit %d\n%s", code, stderr)
	}
	pred, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(pred), "\n")
	// Both files have a header, so the first Chinstrap's prediction is on
	// its line in the data.
	first := slices.IndexFunc(strings.Split(b.String(), "\n"), func(l string) bool { return strings.HasPrefix(l, `"NA"`) })
	if lines[0] != "prediction,prob_Adelie,prob_Gentoo,prob_NA" || first < 1 || !strings.HasPrefix(lines[first], "NA,") {
		t.Errorf("predict wrote the header %s and %q for the first Chinstrap (line %d); want prob_NA and NA", lines[0], lines[max(first, 0)], first)
	}
	p, err := pipeline.LoadPredictor(res.ModelPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	x, err := frame.ReadFile(data, frame.ReadOptions{Missing: []string{""}, Schema: p.ReadSchema()})
	if err != nil {
		t.Fatal(err)
	}
	want, err := p.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range lines[1 : len(lines)-1] {
		// predict writes probabilities with 8 significant digits.
		w := fmt.Sprintf("%s,%s", want.Labels[i], strconv.FormatFloat(want.Probs[3*i], 'g', 8, 64))
		if !strings.HasPrefix(l, w+",") {
			t.Fatalf("predict row %d: %s; want %s,...", i, l, w)
		}
	}
	code, stdout, stderr := tabforge(t, dir, "evaluate", "--model", res.ModelPath, "--data", data, "--json")
	if code != 0 || !strings.Contains(stdout, `"rows":344`) {
		t.Errorf("evaluate: exit %d, %s\n%s; want the 344 penguins scored", code, stdout, stderr)
	}
}
