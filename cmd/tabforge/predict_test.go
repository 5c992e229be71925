package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/pipeline"
)

// TestPredictJSONRefusedInput checks that predict --json lists the
// problems of input it refuses under "input" on stdout, as its help
// says and as serve answers: it used to print nothing there, leaving a
// script only the prose on stderr.
func TestPredictJSONRefusedInput(t *testing.T) {
	dir := t.TempDir()
	m := quickTrain(t, dir, testdata("credit_data.csv"), "Status", "logistic").ModelPath
	for _, c := range []struct {
		name    string
		csv     string
		flags   []string
		missing []string
		extra   []string
	}{
		{"missing column", "Seniority,Home,Time,Age,Marital,Records,Job,Expenses,Assets,Debt,Amount,Price,note\n" +
			"9,castle,60,30,married,no,freelance,73,0,0,800,846,x\n", nil, []string{"Income"}, []string{"note"}},
		{"strict", "Seniority,Home,Time,Age,Marital,Records,Job,Expenses,Income,Assets,Debt,Amount,Price,note\n" +
			"9,castle,60,30,married,no,freelance,73,129,0,0,800,846,x\n", []string{"--strict"}, nil, []string{"note"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "d.csv")
			if err := os.WriteFile(data, []byte(c.csv), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "p.csv")
			code, stdout, stderr := tabforge(t, dir, append([]string{"predict", "--model", m, "--data", data, "--out", out, "--json"}, c.flags...)...)
			if code != 1 || !strings.Contains(stderr, "input does not fit the model") {
				t.Fatalf("exit %d, stderr %q; want 1 and the input refused", code, stderr)
			}
			var got struct {
				Error string               `json:"error"`
				Input pipeline.InputReport `json:"input"`
			}
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatalf("--json output %q: %v", stdout, err)
			}
			if got.Error == "" || !slices.Equal(got.Input.Missing, c.missing) || !slices.Equal(got.Input.Extra, c.extra) ||
				len(got.Input.Unseen) != 1 || got.Input.Unseen[0].Column != "Home" {
				t.Errorf("--json = %+v; want an error, missing %v, extra %v and Home's castle unseen", got, c.missing, c.extra)
			}
		})
	}
}
