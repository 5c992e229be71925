package pipeline

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/store/cache"
	"github.com/tabforge/tabforge/store/storetest"
)

// TestStepCache runs txhousing four times against one SQLite store and
// checks the hit and miss counts: a cold run computes every candidate,
// fold and the report's analysis; an identical rerun is served whole from
// the cache with the same leaderboard and report; toggling the
// interaction stage recomputes the advanced candidates only; changing a
// gate threshold recomputes no candidate, only the analysis.
func TestStepCache(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	base := txhousingConfig(t)
	base.SegmentColumn, base.EnableAdvancedFeatures = "city", true
	base.Models, base.CVFolds = []string{"ridge", "tree"}, 3
	base.TargetTransform = config.TargetNone // the counts below are of one CV per candidate
	train := func(cfg *config.Config) *Result {
		t.Helper()
		res, err := Train(ctx, cfg, Options{Cache: cache.New(st, nil), CodeVersion: "test", Runs: st})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	// ridge and tree, basic and advanced, 3 folds each, and the report's
	// analysis, which depends on the whole config.
	const candidates, folds, analysis = 4, 3, 1
	tests := []struct {
		name         string
		modify       func(c *config.Config)
		hits, misses int64
	}{
		{"cold", func(*config.Config) {}, 0, candidates*(1+folds) + analysis},
		{"identical", func(*config.Config) {}, candidates + analysis, 0},
		{"interaction stage toggled", func(c *config.Config) { c.EnableInteractionFeatures = true }, 2, 2*(1+folds) + analysis},
		{"gate threshold changed", func(c *config.Config) { c.MinR2Threshold = 0.5 }, candidates, analysis},
	}
	var first *Result
	for _, tt := range tests {
		cfg := base.Clone()
		tt.modify(cfg)
		res := train(cfg)
		if res.Cache == nil || res.Cache.Hits != tt.hits || res.Cache.Misses != tt.misses {
			t.Errorf("%s: cache %+v; want %d hits, %d misses", tt.name, res.Cache, tt.hits, tt.misses)
		}
		checkReportCache(t, tt.name, res)
		if first == nil {
			first = res
			continue
		}
		if tt.name != "identical" {
			continue
		}
		if res.Best != first.Best || len(res.Leaderboard) != len(first.Leaderboard) {
			t.Fatalf("cached rerun: best %s of %d; cold run best %s of %d", res.Best, len(res.Leaderboard), first.Best, len(first.Leaderboard))
		}
		for i, e := range res.Leaderboard {
			f := first.Leaderboard[i]
			if e.Model != f.Model || e.CV["r2"] != f.CV["r2"] || e.Test["r2"] != f.Test["r2"] {
				t.Errorf("cached rerun entry %d: %s cv %.6f test %.6f; cold %s cv %.6f test %.6f",
					i, e.Model, e.CV["r2"], e.Test["r2"], f.Model, f.CV["r2"], f.Test["r2"])
			}
		}
		p, err := LoadPredictor(res.ModelPath, Families())
		if err != nil {
			t.Fatalf("cached rerun's model: %v", err)
		}
		if p.RunID != res.RunID {
			t.Errorf("cached rerun's model carries run %s; want %s", p.RunID, res.RunID)
		}
		if res.Report == "" || res.Report == first.Report {
			t.Errorf("cached rerun's report %q; want its own (cold run's: %q)", res.Report, first.Report)
		}
		html, err := os.ReadFile(res.Report)
		if err != nil || !strings.Contains(string(html), res.RunID) {
			t.Errorf("cached rerun's report does not name its run %s (err %v)", res.RunID, err)
		}
	}
}

// checkReportCache checks that the report counts the run's cache lookups
// as the result (train --json) does, the report's own analysis lookup
// included.
func checkReportCache(t *testing.T, name string, res *Result) {
	t.Helper()
	d := reportData(t, res)
	if d.Cache == nil || res.Cache == nil || d.Cache.Hits != res.Cache.Hits || d.Cache.Misses != res.Cache.Misses {
		t.Errorf("%s: report's cache %+v; result's %+v", name, d.Cache, res.Cache)
	}
}
