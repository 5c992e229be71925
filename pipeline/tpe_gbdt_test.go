package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/tune"
)

// gbdtTuning is a real tuning task: gbdt's learning rate, depth, child
// weight, row and column sampling and L2 penalty (40 rounds each, to keep
// it fast) scored by 3-fold CV R² on ames. It returns the mean best CV R²
// over seeds for sampler, given trials trials per study.
func gbdtTuning(t testing.TB, sampler tune.Sampler, seeds []uint64, trials int) float64 {
	t.Helper()
	ctx := context.Background()
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.CVFolds = filepath.Join("..", "testdata", "ames.csv"), "Sale_Price", 3
	f, err := frame.ReadFile(cfg.Data, frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := prepare(f, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	fam, err := Families().Lookup("gbdt")
	if err != nil {
		t.Fatal(err)
	}
	space := tune.Space{Params: []tune.Param{
		{Name: "n_estimators", Fixed: 40},
		{Name: "learning_rate", Dist: tune.FloatDist(0.01, 0.5, true)},
		{Name: "max_depth", Dist: tune.IntDist(1, 8, false)},
		{Name: "min_child_weight", Dist: tune.FloatDist(1, 50, true)},
		{Name: "subsample", Dist: tune.FloatDist(0.3, 1, false)},
		{Name: "colsample_bytree", Dist: tune.FloatDist(0.2, 1, false)},
		{Name: "lambda", Dist: tune.FloatDist(1e-3, 100, true)},
	}}
	spec := features.DesignSpec{Missing: fam.Input.Missing}
	sum := 0.0
	for _, seed := range seeds {
		study, err := tune.NewStudy(ctx, fmt.Sprint("gbdt-", seed), tune.Config{Direction: tune.Maximize, Sampler: sampler, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		res, err := study.Optimize(ctx, func(ctx context.Context, tr *tune.Trial) (float64, error) {
			raw, err := json.Marshal(space.Sample(tr))
			if err != nil {
				return 0, err
			}
			l, err := fam.New(p.task, seed, raw)
			if err != nil {
				return 0, err
			}
			cv, err := crossValidate(ctx, l, spec, p, 2, nil)
			if err != nil {
				return 0, err
			}
			return cv.mean["r2"], nil
		}, tune.Budget{MaxTrials: trials})
		if err != nil || !res.HasBest {
			t.Fatalf("seed %d: %v", seed, err)
		}
		sum += res.Best.Value
	}
	return sum / float64(len(seeds))
}

// TestTPEBeatsRandomOnGBDT: on a real gbdt tuning task, TPE (after 5
// random startup trials) reaches a better mean best CV R² than random
// search with the same 15 trials, over 4 seeds.
func TestTPEBeatsRandomOnGBDT(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: 120 gbdt fits per sampler")
	}
	seeds := []uint64{1, 2, 3, 4}
	rnd := gbdtTuning(t, tune.RandomSampler{}, seeds, 15)
	tpe := gbdtTuning(t, tune.TPESampler{StartupTrials: 5}, seeds, 15)
	t.Logf("mean best CV r2 over %d seeds, 15 trials: TPE %.4f, random %.4f", len(seeds), tpe, rnd)
	if tpe < rnd+0.002 {
		t.Errorf("TPE mean best %.4f; want at least random's %.4f + 0.002", tpe, rnd)
	}
}
