package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/report"
)

// TestWriteReport trains on a small slice of txhousing with business
// rules, one of them an impossible gating bound: Train must write the
// report itself and fail the run with a GateError that names the rule in
// words. The report is then written again on demand with curves and
// bias–variance, and what the analysis found is checked against the run.
func TestWriteReport(t *testing.T) {
	cfg := config.Default()
	cfg.Data = filepath.Join("..", "testdata", "txhousing.csv")
	cfg.Target = "sales"
	cfg.Drop = []string{"volume"}
	cfg.SegmentColumn = "city"
	cfg.Models = []string{"ridge", "tree"}
	cfg.CVFolds = 2
	cfg.ForceProductionQuality = false
	cfg.Out = t.TempDir()
	low, neg := -1e9, -1.0
	cfg.BusinessRules = []config.BusinessRule{
		{Name: "not absurd", Kind: config.RuleBounds, Min: &low, Gate: true},
		{Name: "listings raise sales", Kind: config.RuleMonotonic, Feature: "listings", Direction: "increasing"},
		{Name: "city floor", Kind: config.RuleSegmentFloor, Threshold: 100, Gate: true},
		{Name: "impossible", Kind: config.RuleBounds, Max: &neg, Gate: true},
	}
	ctx := context.Background()
	res, err := Train(ctx, cfg, Options{})
	var ge *GateError
	if !errors.As(err, &ge) || res == nil {
		t.Fatalf("Train: %v; want a GateError from the impossible rule", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "rule impossible (bounds): ") || !strings.Contains(msg, "predictions outside [-inf, -1]") ||
		!strings.Contains(msg, "rule city floor (segment_floor): ") || strings.Contains(msg, "not absurd") {
		t.Errorf("gate error %q; want the failed rules in words, not the passed one", msg)
	}
	if res.Deployable || res.Report == "" || len(res.Gates) != 3 {
		t.Errorf("deployable %v, report %q, gates %+v; want an undeployable run with its report and 3 rule gates", res.Deployable, res.Report, res.Gates)
	}
	if _, err := os.Stat(res.Report); err != nil {
		t.Errorf("train's report: %v", err)
	}
	cfg.BiasVarianceRounds = 3
	cfg.ReportCurves = true
	a, dir, err := WriteReport(ctx, cfg, res, "", AnalysisOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Err != nil {
		t.Fatalf("analysis: %v", a.Err)
	}
	d := a.Data
	if len(d.Test.Y) != res.TestRows || len(d.Test.Pred) != res.TestRows {
		t.Errorf("test predictions %d/%d; want %d", len(d.Test.Y), len(d.Test.Pred), res.TestRows)
	}
	// Re-derived predictions score as the run scored the best model.
	var sse, sst, mean float64
	for _, v := range d.Test.Y {
		mean += v / float64(len(d.Test.Y))
	}
	for i, v := range d.Test.Y {
		sse += (v - d.Test.Pred[i]) * (v - d.Test.Pred[i])
		sst += (v - mean) * (v - mean)
	}
	if r2, want := 1-sse/sst, res.Leaderboard[0].Test["r2"]; abs(r2-want) > 1e-9 {
		t.Errorf("re-derived test r2 %v; the run measured %v", r2, want)
	}
	// Ensembles have no family to refit: bias–variance covers the two
	// families, curves the best single one.
	if len(d.BiasVariance) != 2 || len(d.LearningCurve) == 0 || len(d.TopErrors) == 0 || len(d.SegmentResiduals) == 0 {
		t.Errorf("bias-variance %d families, learning curve %d, top errors %d, segment residuals %d",
			len(d.BiasVariance), len(d.LearningCurve), len(d.TopErrors), len(d.SegmentResiduals))
	}
	// The largest errors name the rows of the data file, which skip the
	// rows without sales: their actual and city are the file's.
	f, err := frame.ReadFile(cfg.Data, ReadOptions(cfg))
	if err != nil {
		t.Fatal(err)
	}
	sales, _ := f.Lookup("sales")
	city, _ := f.Lookup("city")
	for _, e := range d.TopErrors {
		if e.Row < 0 || e.Row >= f.NumRows() || sales.Num[e.Row] != e.Y || city.Label(e.Row) != e.Segment {
			t.Errorf("largest error %+v: not data row %d of the file", e, e.Row)
		}
	}
	for _, bv := range d.BiasVariance {
		if r := bv.Result; abs(r.Sum()-r.ExpectedLoss) > 1e-9*r.ExpectedLoss {
			t.Errorf("%s: terms sum to %v, loss %v", bv.Family, r.Sum(), r.ExpectedLoss)
		}
	}
	if len(a.Rules) != 4 || !a.Rules[0].Passed || a.Rules[2].Passed || a.Rules[3].Passed || a.Rules[1].Error != "" {
		t.Errorf("rules %+v; want the loose bound to pass, the impossible floor and bound to fail, the monotonic rule checked", a.Rules)
	}
	g := a.RuleGates()
	if len(g) != 3 || g.Passed() || len(g.Failures()) != 2 || !strings.Contains(strings.Join(g.Failures(), ";"), "city floor") {
		t.Errorf("rule gates %+v", g)
	}
	if len(d.PDP) == 0 || d.PDP[0].Feature != "listings" || len(d.PDP[0].Average) < 2 || len(d.PDP[0].ICE) == 0 {
		t.Errorf("PDP %+v; want the monotonic rule's curve first, with ICE curves", d.PDP)
	}
	if d.SHAP == nil || len(d.SHAP.Values) == 0 || len(d.FeatureImportance) != len(d.SHAP.Features) {
		t.Errorf("SHAP %v, importance %d features; want both", d.SHAP != nil, len(d.FeatureImportance))
	}
	var back report.Data
	b, err := os.ReadFile(filepath.Join(dir, report.DataFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &back); err != nil || back.RunID != res.RunID {
		t.Errorf("report.json: %v, run %q", err, back.RunID)
	}
	// A moved dataset still gives a report, from the result alone.
	moved := cfg.Clone()
	moved.Data = filepath.Join(t.TempDir(), "gone.csv")
	a2, _, err := WriteReport(ctx, moved, res, t.TempDir(), AnalysisOptions{})
	if err != nil || a2.Err == nil || len(a2.Data.Leaderboard) != len(res.Leaderboard) {
		t.Errorf("moved dataset: err %v, analysis err %v", err, a2.Err)
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
