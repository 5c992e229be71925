package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestStudies tunes a tree briefly, then lists the run's study and shows
// its trials: the counts agree, every trial has its parameters, and the
// marked best trial holds the best value.
func TestStudies(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := cli(t, dir, "train", "--data", testdata("credit_data.csv"), "--target", "Status", "--models", "tree", "--cv-folds", "2",
		"--set", "enable_hyperparameter_tuning=true", "--max-evals", "4", "--set", "force_production_quality=false",
		"--out", filepath.Join(dir, "m"), "--json")
	if code != 0 {
		t.Fatalf("train: exit %d\n%s", code, errs)
	}
	var res trainJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	code, out, errs = cli(t, dir, "studies", "list", res.RunID, "--json")
	if code != 0 {
		t.Fatalf("studies list: exit %d\n%s", code, errs)
	}
	var studies []struct {
		Name     string   `json:"name"`
		Trials   int      `json:"trials"`
		Complete int      `json:"complete"`
		Best     *float64 `json:"best"`
		BestAt   int      `json:"best_trial"`
	}
	if err := json.Unmarshal([]byte(out), &studies); err != nil || len(studies) != 1 {
		t.Fatalf("studies list %s = %s (%v); want the run's one study", res.RunID, out, err)
	}
	s := studies[0]
	if s.Trials < 2 || s.Complete < 1 || s.Best == nil || !strings.Contains(s.Name, "/tree") {
		t.Fatalf("study = %+v; want a tree study with complete trials and a best value", s)
	}
	code, out, errs = cli(t, dir, "studies", "show", s.Name, "--json")
	if code != 0 {
		t.Fatalf("studies show: exit %d\n%s", code, errs)
	}
	var shown struct {
		Trials []struct {
			Number int            `json:"number"`
			State  string         `json:"state"`
			Value  *float64       `json:"value"`
			Params map[string]any `json:"params"`
			Best   bool           `json:"best"`
		} `json:"trials"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil || len(shown.Trials) != s.Trials {
		t.Fatalf("studies show = %s (%v); want %d trials", out, err, s.Trials)
	}
	best := 0
	for _, tr := range shown.Trials {
		if tr.State == "complete" && len(tr.Params) == 0 && tr.Number > 0 {
			t.Errorf("trial %d has no parameters", tr.Number)
		}
		if tr.Best {
			best++
			if tr.Number != s.BestAt || tr.Value == nil || *tr.Value != *s.Best {
				t.Errorf("best-marked trial %+v; the study says trial %d with %v", tr, s.BestAt, *s.Best)
			}
		}
	}
	if best != 1 {
		t.Errorf("%d trials marked best; want 1", best)
	}
	if code, out, _ := cli(t, dir, "studies", "show", s.Name); code != 0 || !strings.Contains(out, "TRIAL") || !strings.Contains(out, " *") {
		t.Errorf("studies show text: exit %d\n%s", code, out)
	}
	if code, _, errs := cli(t, dir, "studies", "show", "no-such-study"); code != 1 || !strings.Contains(errs, "not found") {
		t.Errorf("studies show of an unknown study: exit %d %q", code, errs)
	}
}
