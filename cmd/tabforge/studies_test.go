package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/tune"
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
		Importance []importanceJSON `json:"importance"`
		Trials     []struct {
			Number       int                 `json:"number"`
			State        string              `json:"state"`
			Value        *float64            `json:"value"`
			Params       map[string]any      `json:"params"`
			Best         bool                `json:"best"`
			Intermediate map[string]*float64 `json:"intermediate_values"`
			FoldValues   []*float64          `json:"fold_values"`
		} `json:"trials"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil || len(shown.Trials) != s.Trials {
		t.Fatalf("studies show = %s (%v); want %d trials", out, err, s.Trials)
	}
	checkImportance(t, shown.Importance)
	best := 0
	for _, tr := range shown.Trials {
		if tr.State == "complete" && len(tr.Params) == 0 && tr.Number > 0 {
			t.Errorf("trial %d has no parameters", tr.Number)
		}
		if tr.State == "complete" {
			// Two folds, whose mean is the trial's value and the last
			// intermediate value.
			if len(tr.FoldValues) != 2 || len(tr.Intermediate) != 2 || tr.FoldValues[0] == nil || tr.FoldValues[1] == nil {
				t.Fatalf("trial %d: fold_values %v, intermediate_values %v; want 2 of each", tr.Number, tr.FoldValues, tr.Intermediate)
			}
			if m := (*tr.FoldValues[0] + *tr.FoldValues[1]) / 2; math.Abs(m-*tr.Value) > 1e-9 || math.Abs(*tr.Intermediate["2"]-*tr.Value) > 1e-9 {
				t.Errorf("trial %d: folds %v mean %v, intermediate %v; want the value %v", tr.Number, tr.FoldValues, m, *tr.Intermediate["2"], *tr.Value)
			}
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
	if code, out, _ := cli(t, dir, "studies", "show", s.Name); code != 0 || !strings.Contains(out, "TRIAL") || !strings.Contains(out, " *") ||
		!strings.Contains(out, "FOLD VALUES") || !strings.Contains(out, "parameter importance over") {
		t.Errorf("studies show text: exit %d\n%s", code, out)
	}
	if code, _, errs := cli(t, dir, "studies", "show", "no-such-study"); code != 1 || !strings.Contains(errs, "not found") {
		t.Errorf("studies show of an unknown study: exit %d %q", code, errs)
	}
}

// TestStudiesTextWithoutCompleteTrial: a study whose trials were all
// pruned or interrupted has no best trial (BestAt -1); list and show used
// to print it as trial -1.
func TestStudiesTextWithoutCompleteTrial(t *testing.T) {
	s := pipeline.StudySummary{Study: store.Study{Name: "train/x/y/forest/tpe", Direction: "maximize"}, Trials: 2, Pruned: 1, BestAt: -1}
	var b strings.Builder
	if err := printStudyList(&b, []pipeline.StudySummary{s}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "-1") {
		t.Errorf("studies list prints trial -1:\n%s", b.String())
	}
	b.Reset()
	a := &app{stdout: &b}
	if err := a.printStudy(studyView{Study: s}); err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(b.String(), "\n"); strings.Contains(first, "-1") || !strings.Contains(first, "no complete trial") {
		t.Errorf("studies show header %q; want no trial -1 and \"no complete trial\"", first)
	}
}

// TestStudiesShowDefaultsTrial: the trial that scored the family defaults
// (no sampled parameter) says so in studies show's PARAMS column, which
// was blank.
func TestStudiesShowDefaultsTrial(t *testing.T) {
	v := 0.8
	var b strings.Builder
	a := &app{stdout: &b}
	view := studyView{Study: pipeline.StudySummary{Study: store.Study{Name: "s", Direction: "maximize"}, Trials: 2, Complete: 2, Best: &v},
		Trials: []trialRow{{Number: 0, State: "complete", Value: &v, Params: map[string]any{}, Best: true}, {Number: 1, State: "complete", Value: &v, Params: map[string]any{"c": 0.5}}}}
	if err := a.printStudy(view); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 || !strings.HasSuffix(lines[2], "(defaults)") || !strings.HasSuffix(lines[3], "c=0.5") {
		t.Errorf("studies show:\n%s\nwant trial 0 with (defaults), trial 1 with c=0.5", b.String())
	}
}

// importanceJSON is one parameter of studies show --json's importance.
type importanceJSON struct {
	Name  string  `json:"name"`
	Share float64 `json:"share"`
}

// checkImportance checks studies show's importance: most important
// first, shares summing to 1.
func checkImportance(t *testing.T, imp []importanceJSON) {
	t.Helper()
	if len(imp) == 0 {
		t.Fatal("studies show --json has no importance")
	}
	sum := 0.0
	for i, p := range imp {
		sum += p.Share
		if i > 0 && p.Share > imp[i-1].Share {
			t.Errorf("importance %v not sorted by share", imp)
		}
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Errorf("importance shares sum to %v; want 1", sum)
	}
}

// TestStudiesShowCapsRows: a study of more than shownTrials trials
// prints its best shownTrials, in trial order, and says so; --all
// prints every one.
func TestStudiesShowCapsRows(t *testing.T) {
	const n = 120
	rows := make([]trialRow, n)
	for i := range rows {
		v := float64(i%40) / 40 // trials 39, 79 and 119 are the best
		rows[i] = trialRow{Number: i, State: tune.Complete, Value: &v, Params: map[string]any{"c": v}}
		if i%3 == 0 {
			rows[i].State, rows[i].Value = tune.Fail, nil
		}
	}
	best := 1.0 - 1.0/40
	view := studyView{Study: pipeline.StudySummary{Study: store.Study{Name: "s", Direction: tune.Maximize}, Trials: n, Best: &best, BestAt: 119},
		Trials: rows}
	for _, all := range []bool{false, true} {
		view.all = all
		var b strings.Builder
		if err := (&app{stdout: &b}).printStudy(view); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(b.String()), "\n")
		want := 1 + 1 + n + 0 // header, column heads, trials
		if !all {
			want = 1 + 1 + shownTrials + 1 // and the note
		}
		if len(lines) != want {
			t.Fatalf("all=%v: %d lines; want %d\n%s", all, len(lines), want, b.String())
		}
		if all {
			continue
		}
		if note := lines[len(lines)-1]; !strings.Contains(note, "50 of 120 trials shown") || !strings.Contains(note, "--all") {
			t.Errorf("note %q; want it to say 50 of 120 and --all", note)
		}
		prev := -1
		for _, l := range lines[2 : len(lines)-1] {
			num, _, _ := strings.Cut(l, " ")
			k, err := strconv.Atoi(num)
			if err != nil || k <= prev || rows[k].State != tune.Complete || *rows[k].Value < 0.25 {
				t.Errorf("row %q: want complete trials of the best values, in trial order", l)
			}
			prev = k
		}
	}
}
