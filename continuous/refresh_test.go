package continuous

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/internal/atomicfile"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
)

// TestRefresh retrains, on demand and with nothing calling for a
// challenger, a champion of 2022's orders on data that runs on into the
// shifted 2023. A refresh that must gain an impossible margin is kept
// out; one at the default margins is made: the champion boosted on all
// rows but every other newest one beats it on those, the
// refreshed version (boosted on all rows) is promoted with the
// champion as its parent, and the refresh counts toward the age of its
// lineage, so the next new data trains a challenger at max age 1.
func TestRefresh(t *testing.T) {
	ctx := context.Background()
	env, _, after, champ := withChampion(t)
	reg := env.Registry
	// A decay no score can reach: only the age limit calls a challenger.
	pol := Policy{OnDemand: true, Decay: 100, Refresh: 0.2}

	strict := pol
	strict.MinAbsolute = 1 // r2 cannot gain 1 over a positive score
	d, err := Retrain(ctx, env, "sales", after, strict)
	if err != nil {
		t.Fatal(err)
	}
	if d.Decision != Keep || d.Refresh == nil || d.Refresh.Version != "" || !strings.Contains(d.Reason, "not refreshed") || d.ChallengerVersion != "" {
		t.Fatalf("refresh held to an impossible margin = %+v; want keep with the check reported", d)
	}
	if p, _ := reg.Production(ctx, "sales"); p.Version != champ {
		t.Errorf("production is %s after a refused refresh; want the champion %s", p.Version, champ)
	}

	d, err = Retrain(ctx, env, "sales", after, pol)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("refresh: %+v %+v", *d, *d.Refresh)
	r := d.Refresh
	if d.Decision != Refresh || r == nil || r.Version == "" || r.Version == champ || d.ChallengerVersion != "" {
		t.Fatalf("retrain after the shift = %+v; want a refresh and no challenger", d)
	}
	if r.RefreshedScore <= r.ChampionScore || r.Rows != 18_000 || r.CheckRows != d.HoldoutRows/2 || r.Rounds < 1 {
		t.Errorf("refresh check %+v; want the boosted champion ahead on half the newest %d rows, boosted on all 18000", r, d.HoldoutRows)
	}
	prod, err := reg.Production(ctx, "sales")
	if err != nil || prod.Version != r.Version {
		t.Fatalf("production = %+v, %v; want the refreshed %s", prod, err, r.Version)
	}
	// The refreshed version loads, adds trees to the champion's, and is
	// registered for the new data: retraining on it is "no new data".
	old, err := pipeline.LoadRegistered(ctx, env.Artifacts, mustGet(t, reg, champ))
	if err != nil {
		t.Fatal(err)
	}
	got, err := pipeline.LoadRegistered(ctx, env.Artifacts, prod)
	if err != nil {
		t.Fatal(err)
	}
	o, _ := refreshable(old)
	n, ok := refreshable(got)
	if !ok || n.trees.NumTrees() != o.trees.NumTrees()+r.Rounds {
		t.Errorf("the refreshed model has %d trees; want the champion's %d and %d more", n.trees.NumTrees(), o.trees.NumTrees(), r.Rounds)
	}
	if d, err := Retrain(ctx, env, "sales", after, pol); err != nil || d.Reason != "no new data" {
		t.Errorf("retrain on the refreshed version's data = %+v, %v; want no new data", d, err)
	}
	s, err := reg.Summary(ctx, "sales")
	if err != nil {
		t.Fatal(err)
	}
	if from := refreshedFrom(s, r.Version); from != champ {
		t.Errorf("the refreshed version's parent in the summary is %q; want %s", from, champ)
	}

	// New data again, a month on: the lineage has seen one data version
	// since its training, so max age 1 trains a challenger.
	later := nextMonth(t, after)
	aged := pol
	aged.MaxAge = 1
	d, err = Retrain(ctx, env, "sales", later, aged)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(d.Trigger, "max age 1") || d.ChallengerVersion == "" {
		t.Errorf("retrain of the refreshed champion at max age 1 = %+v; want a challenger for its age", d)
	}
}

// TestRefreshLoses checks the refresh check's margins.
func TestRefreshLoses(t *testing.T) {
	orTrain := Policy{OnDemand: true, Decay: 0.05, RefreshOrTrain: true}
	tests := []struct {
		name        string
		metric      string
		champ, next float64
		pol         Policy
		wins        float64
		untrained   bool // no challenger was trained
		lose        bool
	}{
		{"better r2", "r2", 0.30, 0.32, Policy{}, 1, false, false},
		{"equal r2", "r2", 0.30, 0.30, Policy{}, 1, false, true},
		{"worse r2", "r2", 0.30, 0.29, Policy{}, 1, false, true},
		{"below the absolute margin", "r2", 0.30, 0.32, Policy{MinAbsolute: 0.05}, 1, false, true},
		{"below the relative margin", "r2", 0.30, 0.32, Policy{MinRelative: 0.1}, 1, false, true},
		{"lower rmse", "rmse", 2.0, 1.9, Policy{}, 1, false, false},
		{"higher rmse", "rmse", 2.0, 2.1, Policy{}, 1, false, true},
		{"too few paired wins", "r2", 0.30, 0.32, Policy{MinWins: 0.9}, 0.6, false, true},
		// RefreshOrTrain: a gain beyond Decay is too far for a refresh
		// when no challenger was trained (one is, then), not after one lost.
		{"too far, refresh or train", "r2", 0.30, 0.34, orTrain, 1, true, true},
		{"too far, challenger lost", "r2", 0.30, 0.34, orTrain, 1, false, false},
		{"too far, refresh only", "r2", 0.30, 0.34, Policy{OnDemand: true, Decay: 0.05}, 1, true, false},
		{"near, refresh or train", "r2", 0.30, 0.31, orTrain, 1, true, false},
		{"too far rmse, refresh or train", "rmse", 2.0, 1.8, orTrain, 1, true, true},
		{"near rmse, refresh or train", "rmse", 2.0, 1.95, orTrain, 1, true, false},
		// The check rows' auc is NaN when they hold one class (every other
		// row of a holdout with one positive); r2 of one row is NaN too.
		{"undefined auc", "auc", math.NaN(), math.NaN(), Policy{}, 0, false, true},
		{"undefined refreshed r2", "r2", 0.30, math.NaN(), Policy{}, 0, false, true},
		{"undefined champion rmse", "rmse", math.NaN(), 1.9, Policy{}, 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &RefreshResult{ChampionScore: tt.champ, RefreshedScore: tt.next, CheckRows: 10, Paired: &Paired{ChallengerWins: tt.wins}}
			if why := refreshLoses(r, tt.pol, tt.metric, tt.untrained); (why != "") != tt.lose {
				t.Errorf("refreshLoses = %q; want a loss: %v", why, tt.lose)
			}
		})
	}
}

func mustGet(t *testing.T, reg *registry.Registry, version string) *registry.Model {
	t.Helper()
	m, err := reg.Get(context.Background(), version)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// nextMonth writes the sales orders at path (see salesFiles) and, after
// them, a copy of their last 30 days' orders 30 days later, next to it:
// new data whose newest rows are after all of path's.
func nextMonth(t *testing.T, path string) string {
	t.Helper()
	x, err := frame.ReadFile(path, frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ord, _ := x.Lookup("order_date")
	const month = 30 * 86400
	end := slices.Max(ord.Num)
	var rows []int
	for i, v := range ord.Num {
		if v > end-month {
			rows = append(rows, i)
		}
	}
	next := x.Take(rows)
	shifted, _ := next.Lookup("order_date")
	for i := range shifted.Num {
		shifted.Num[i] += month
	}
	both, err := frame.Concat(x, next)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(filepath.Dir(path), "next_month.csv")
	if err := atomicfile.Write(out, func(w io.Writer) error { return frame.WriteCSV(w, both) }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRefreshBinary refreshes a binary gbdt champion: the continued
// boosting used to be given no classes for a binary task and failed
// every retrain, watch and backtest of such a model.
func TestRefreshBinary(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("..", "testdata", "credit_data.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(src), "\n")
	before, after := filepath.Join(dir, "before.csv"), filepath.Join(dir, "after.csv")
	for path, n := range map[string]int{before: 3001, after: len(lines)} {
		if err := os.WriteFile(path, []byte(strings.Join(lines[:n], "")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := openEnv(t, dir, filepath.Join(dir, "artifacts"))
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Name = before, "Status", "credit"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"gbdt"}, 0, filepath.Join(dir, "runs")
	cfg.MinR2Threshold, cfg.MinBusinessAccuracy = 0, 0
	res, err := pipeline.Train(ctx, cfg, pipeline.Options{Runs: env.Runs,
		Registrar: pipeline.StoreRegistrar{Registry: env.Registry, Artifacts: env.Artifacts, CodeVersion: env.CodeVersion}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Registry.Promote(ctx, res.Registered.Model.Version, registry.Production, registry.PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	d, err := Retrain(ctx, env, "credit", after, Policy{OnDemand: true, Decay: 100, Refresh: 0.2})
	if err != nil {
		t.Fatalf("retrain of a binary champion: %v", err)
	}
	if d.Refresh == nil || d.Refresh.Rounds < 1 || math.IsNaN(d.Refresh.RefreshedScore) {
		t.Errorf("retrain = %+v; want a refresh check with boosted rounds", d)
	}
	// Someone promotes another version while a retrain, decided against
	// the first champion, runs: its promotion is kept out.
	cfg.Data, cfg.Seed = after, 2
	other, err := pipeline.Train(ctx, cfg, pipeline.Options{Runs: env.Runs,
		Registrar: pipeline.StoreRegistrar{Registry: env.Registry, Artifacts: env.Artifacts, CodeVersion: env.CodeVersion}})
	if err != nil {
		t.Fatal(err)
	}
	moved := other.Registered.Model.Version
	if _, err := env.Registry.Promote(ctx, moved, registry.Production, registry.PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	old := res.Registered.Model
	stale := &Decision{Decision: Promote, Stage: registry.Production, Reason: "decided against " + old.Version}
	if err := promoteDecided(ctx, env, old, old.Version, stale, registry.PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	if p, _ := env.Registry.Production(ctx, "credit"); stale.Decision != Keep || !stale.moved || !strings.Contains(stale.Reason, "production changed") || p.Version != moved {
		t.Errorf("stale promotion = %+v, production %s; want a keep and %s left in production", stale, p.Version, moved)
	}
}
