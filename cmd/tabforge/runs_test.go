package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunsListMetrics: runs list shows the ranking metric of each run with
// the leader's CV and test values and the duration, in text and JSON, and
// they agree with what train reported.
func TestRunsListMetrics(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := cli(t, dir, "train", "--data", testdata("ames.csv"), "--target", "Sale_Price", "--models", "ridge", "--cv-folds", "2",
		"--set", "force_production_quality=false", "--out", filepath.Join(dir, "m"), "--json")
	if code != 0 {
		t.Fatalf("train: exit %d\n%s", code, errs)
	}
	var res trainJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	lead := res.Leaderboard[0]
	code, out, errs = cli(t, dir, "runs", "list", "--json")
	if code != 0 {
		t.Fatalf("runs list --json: exit %d\n%s", code, errs)
	}
	var rows []struct {
		ID       string   `json:"id"`
		Metric   string   `json:"metric"`
		CV       *float64 `json:"cv_metric"`
		Test     *float64 `json:"test_metric"`
		Duration float64  `json:"duration_seconds"`
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 1 {
		t.Fatalf("runs list --json = %s (%v); want one run", out, err)
	}
	r := rows[0]
	if r.ID != res.RunID || r.Metric != "r2" || r.CV == nil || r.Test == nil || r.Duration <= 0 {
		t.Fatalf("runs list row = %+v; want run %s with r2, CV, test and a duration", r, res.RunID)
	}
	if math.Abs(*r.CV-lead.CV["r2"]) > 1e-12 || math.Abs(*r.Test-lead.Test["r2"]) > 1e-12 {
		t.Errorf("runs list r2 cv %v test %v; train said %v and %v", *r.CV, *r.Test, lead.CV["r2"], lead.Test["r2"])
	}
	code, out, _ = cli(t, dir, "runs", "list")
	if code != 0 || !strings.Contains(out, "DURATION") || !strings.Contains(out, " r2 ") {
		t.Errorf("runs list text: exit %d\n%s", code, out)
	}
}
