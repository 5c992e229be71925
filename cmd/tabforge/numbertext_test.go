package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestNumberTextWarnings runs train --json and drift on a CSV whose
// amount column writes thousands with commas ("1,000"): the column is
// read as categorical, and both commands say so, naming the column and
// an example value (train in its --json warnings, drift on stderr); both
// said nothing, and the amounts were modelled and compared as unordered
// categories.
func TestNumberTextWarnings(t *testing.T) {
	dir := t.TempDir()
	data := testdata("amounts_grouped.csv") // "1,000": thousands grouped with commas
	says := func(s string) bool {
		return strings.Contains(s, `column "amount" was read as categorical`) && strings.Contains(s, `"1,000"`)
	}

	code, stdout, stderr := tabforge(t, dir, "train", "--data", data, "--target", "y", "--models", "ridge",
		"--cv-folds", "0", "--out", dir, "--json", "--profile", "development")
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	var res struct {
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(res.Warnings, says) {
		t.Errorf("train --json warnings %q; want one about column \"amount\" and \"1,000\"", res.Warnings)
	}

	code, _, stderr = tabforge(t, dir, "drift", "--json", "--reference", data, "--current", data)
	if code != 0 {
		t.Fatalf("drift: exit %d: %s", code, stderr)
	}
	if !says(stderr) {
		t.Errorf("drift stderr %q; want a warning about column \"amount\" and \"1,000\"", stderr)
	}
}
