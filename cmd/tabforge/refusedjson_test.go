package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/pipeline"
)

// TestRefusedInputJSON: every command that reads data for a model
// answers a refused input under --json with its problems on stdout, as
// predict does: {"error", "model", "input"} naming the mistyped column,
// and exit 1. evaluate and explain printed nothing on stdout, so a script
// had to parse the prose on stderr.
func TestRefusedInputJSON(t *testing.T) {
	dir := t.TempDir()
	res := quickTrain(t, dir, testdata("credit_data.csv"), "Status", "logistic")
	rows := readCSV(t, testdata("credit_data.csv"))[:20]
	age := slices.Index(rows[0], "Age")
	var b strings.Builder
	w := csv.NewWriter(&b)
	for i, r := range rows {
		if i == 3 {
			r = slices.Clone(r)
			r[age] = "old" // Age was numeric in training
		}
		w.Write(r)
	}
	w.Flush()
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"predict", "--out", filepath.Join(dir, "p.csv")},
		{"evaluate"},
		{"explain"},
	} {
		t.Run(args[0], func(t *testing.T) {
			code, stdout, stderr := tabforge(t, dir, append(args, "--model", res.ModelPath, "--data", bad, "--json")...)
			var got struct {
				Error string               `json:"error"`
				Model string               `json:"model"`
				Input pipeline.InputReport `json:"input"`
			}
			if err := json.Unmarshal([]byte(stdout), &got); code != 1 || err != nil {
				t.Fatalf("exit %d, stdout %q (%v), stderr %q; want exit 1 and the problems as JSON", code, stdout, err, stderr)
			}
			if len(got.Input.WrongType) != 1 || got.Input.WrongType[0].Column != "Age" || !strings.Contains(got.Error, `"Age"`) || got.Model != "logistic" {
				t.Errorf("--json = %+v; want Age of the wrong type, from the logistic model", got)
			}
		})
	}
}
