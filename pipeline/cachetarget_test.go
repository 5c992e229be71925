package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/store/cache"
	"github.com/tabforge/tabforge/store/storetest"
)

// TestFoldCacheKnowsTheTable trains on one file with one store three
// times: target a, then target b (a noise column a does not follow), then
// target a with column b as a feature too. A fold's cache key named the
// file but neither the target nor the features, so the second and third
// runs were served the first run's fold scores (5 hits) and reported its
// CV R² as their own; each now computes its folds.
func TestFoldCacheKnowsTheTable(t *testing.T) {
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("x,a,b\n")
	for i := range 120 {
		x := float64(i%17) - 8
		fmt.Fprintf(&csv, "%g,%g,%g\n", x, 3*x+float64(i%3), float64((i*7919)%13))
	}
	data := filepath.Join(dir, "d.csv")
	if err := os.WriteFile(data, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	st := storetest.SQLite(t)
	train := func(target string, drop []string) *Result {
		t.Helper()
		cfg := config.Default()
		cfg.Data, cfg.Target, cfg.Drop, cfg.Out = data, target, drop, filepath.Join(dir, "models")
		cfg.Models, cfg.CVFolds, cfg.ForceProductionQuality = []string{"ridge"}, 5, false
		cfg.TargetTransform = config.TargetNone
		res, err := Train(context.Background(), cfg, Options{Cache: cache.New(st, nil), CodeVersion: "test", Runs: st})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	first := train("a", []string{"b"})
	for _, run := range []struct {
		target string
		drop   []string
	}{{"b", []string{"a"}}, {"a", nil}} {
		res := train(run.target, run.drop)
		if res.Cache == nil || res.Cache.Hits != 0 {
			t.Errorf("target %s, drop %v: cache %+v; want no hits from the run on target a without b", run.target, run.drop, res.Cache)
		}
		if res.Leaderboard[0].CV["r2"] == first.Leaderboard[0].CV["r2"] {
			t.Errorf("target %s, drop %v: CV r2 %v, the first run's", run.target, run.drop, res.Leaderboard[0].CV["r2"])
		}
	}
	if again := train("a", []string{"b"}); again.Cache == nil || again.Cache.Misses != 0 {
		t.Errorf("rerun of the first run: cache %+v; want every step cached", again.Cache)
	}
}
