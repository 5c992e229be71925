package pipeline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/split"
)

// folds5 returns 5 k-fold folds over n rows (positions 0..n-1).
func folds5(n int) []split.Fold {
	var out []split.Fold
	for k := range 5 {
		var f split.Fold
		for i := range n {
			if i%5 == k {
				f.Test = append(f.Test, i)
			} else {
				f.Train = append(f.Train, i)
			}
		}
		out = append(out, f)
	}
	return out
}

func TestPlanBudget(t *testing.T) {
	const n = 40_000
	folds := folds5(n)
	// cost is planBudget's estimate for unit seconds per pilot fit.
	cost := func(unit float64, rows int) float64 { return unit * scale(rows) }
	tests := []struct {
		name   string
		unit   float64
		passes int
		budget float64
		action string
	}{
		{"within", 0.01, 2, 60, ""},
		{"subsampled", 0.3, 2, 60, budgetSubsampled},
		{"subsampled, one pass", 0.5, 1, 60, budgetSubsampled},
		{"final fit alone over", 1, 1, 20, budgetStopped},
		{"no room for pilot-size folds", 0.5, 3, 18, budgetStopped},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := planBudget(tc.unit, tc.passes, folds, n, tc.budget)
			if p.Action != tc.action {
				t.Fatalf("action = %q (%s); want %q", p.Action, p.Reason, tc.action)
			}
			switch p.Action {
			case budgetSubsampled:
				if p.CVRows < pilotRows || p.CVRows >= len(folds[0].Train) {
					t.Fatalf("cv rows = %d; want in [%d, %d)", p.CVRows, pilotRows, len(folds[0].Train))
				}
				used := float64(tc.passes*len(folds))*cost(tc.unit, p.CVRows) + cost(tc.unit, n)
				more := float64(tc.passes*len(folds))*cost(tc.unit, p.CVRows+1) + cost(tc.unit, n)
				if used > tc.budget || more <= tc.budget {
					t.Errorf("cv rows %d cost %.2f s (one more: %.2f s) for a budget of %.0f s; want the most that fit", p.CVRows, used, more, tc.budget)
				}
				fallthrough
			case budgetStopped:
				if p.Estimated <= tc.budget || p.Reason == "" {
					t.Errorf("estimated %.1f s, reason %q; want above the budget %.0f s, with a reason", p.Estimated, p.Reason, tc.budget)
				}
			}
		})
	}
}

func TestThinFolds(t *testing.T) {
	p := &prepared{train: make([]int, 20_000), folds: folds5(20_000), split: "random"}
	q := p.thinFolds(5_000, 1)
	if q.foldTag == "" || q.split == p.split {
		t.Fatalf("thinned folds share the run's memo keys (tag %q, split %q)", q.foldTag, q.split)
	}
	for i, f := range q.folds {
		if len(f.Train) != 5_000 {
			t.Errorf("fold %d trains on %d rows; want 5000", i, len(f.Train))
		}
		if !slices.Equal(f.Test, p.folds[i].Test) {
			t.Errorf("fold %d: validation rows changed; want all of them kept", i)
		}
		if !slices.IsSorted(f.Train) {
			t.Errorf("fold %d: training rows out of order", i)
		}
		for _, r := range f.Train {
			if _, ok := slices.BinarySearch(p.folds[i].Train, r); !ok {
				t.Fatalf("fold %d trains on row %d, not one of its training rows", i, r)
			}
		}
	}
	if len(p.folds[0].Train) != 16_000 {
		t.Errorf("thinning changed the original folds")
	}
}

// TestFamilyBudgetStopsSlowFamily trains a fast (ols) and a slow family
// (a 300-tree forest) under a family budget the forest cannot keep: the
// run succeeds with ols, and the forest's leaderboard entry and the
// warnings say it was stopped and why. The margins are wide: ols's CV
// takes milliseconds, the forest's final fit alone seconds.
func TestFamilyBudgetStopsSlowFamily(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 5))
	var b strings.Builder
	b.WriteString("a,b,c,d,y\n")
	for range 12_000 {
		a, bb, c, d := rng.Float64(), rng.Float64(), rng.Float64(), rng.NormFloat64()
		fmt.Fprintf(&b, "%.5f,%.5f,%.5f,%.5f,%.5f\n", a, bb, c, d, 3*a-2*bb+c*c+0.1*rng.NormFloat64())
	}
	data := filepath.Join(dir, "d.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Out = data, "y", dir
	cfg.Models, cfg.ForceProductionQuality, cfg.TargetTransform = []string{"ols", "forest"}, false, config.TargetNone
	cfg.ModelParams = map[string]map[string]any{"forest": {"n_estimators": 300}}
	cfg.FamilyBudget = config.Duration(300 * time.Millisecond)
	res, err := Train(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Best != "ols" {
		t.Errorf("best = %s; want ols, the only family within budget", res.Best)
	}
	var forest *Entry
	for i := range res.Leaderboard {
		if res.Leaderboard[i].Model == "forest" {
			forest = &res.Leaderboard[i]
		}
	}
	if forest == nil || forest.Budget == nil || forest.Budget.Action != budgetStopped || forest.Error == "" {
		t.Fatalf("forest entry = %+v; want stopped by the budget", forest)
	}
	if !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, "forest not trained") }) {
		t.Errorf("warnings %q do not say the forest was not trained", res.Warnings)
	}
}

// TestRethin checks that a worker thins a run's folds as the driver did
// from the fold tag alone: budget thinning, then a subsample for a
// decision, give the same folds and tag; a malformed tag is an error.
func TestRethin(t *testing.T) {
	p := &prepared{train: make([]int, 20_000), folds: folds5(20_000), split: "random"}
	for i := range p.train {
		p.train[i] = i
	}
	budget := p.thinFolds(12_000, 7)
	both, ok := budget.subsampled(10_000, 7)
	if !ok {
		t.Fatal("subsample refused")
	}
	for _, want := range []*prepared{p, budget, both} {
		got, err := p.rethin(want.foldTag, 7)
		if err != nil {
			t.Fatalf("tag %q: %v", want.foldTag, err)
		}
		if got.foldTag != want.foldTag || got.split != want.split {
			t.Errorf("tag %q rebuilt as %q, split %q; want %q", want.foldTag, got.foldTag, got.split, want.split)
		}
		for i := range want.folds {
			if !slices.Equal(got.folds[i].Train, want.folds[i].Train) || !slices.Equal(got.folds[i].Test, want.folds[i].Test) {
				t.Fatalf("tag %q: fold %d differs from the driver's", want.foldTag, i)
			}
		}
	}
	if both.foldTag == (&prepared{}).foldTag+"sub10000:" {
		t.Errorf("a subsample of thinned folds has the tag of a subsample of the run's folds")
	}
	for _, bad := range []string{"budget:", "subx:", "budget0:", "sub99999:", "thin3:"} {
		if _, err := p.rethin(bad, 7); err == nil {
			t.Errorf("tag %q rebuilt without error", bad)
		}
	}
}
