package pipeline

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tabforge/tabforge/config"
)

// TestTuning runs the search with TPE and with the grid fallback and checks
// each respects its trial budget and that the tuned model is scored.
func TestTuning(t *testing.T) {
	for _, tc := range []struct {
		tpe     bool
		sampler string
		trials  int
	}{{true, "tpe", 6}, {false, "grid", 4}} {
		t.Run(tc.sampler, func(t *testing.T) {
			cfg := config.Default()
			cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
			cfg.Models, cfg.CVFolds, cfg.Out = []string{"logistic"}, 3, t.TempDir()
			cfg.EnableHyperparameterTuning, cfg.UseOptuna, cfg.MaxEvals = true, tc.tpe, 6
			res, err := Train(context.Background(), cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			e := res.Leaderboard[0]
			if e.Tuning == nil || e.Tuning.Sampler != tc.sampler || e.Tuning.Trials != tc.trials {
				t.Fatalf("tuning = %+v; want %s with %d trials", e.Tuning, tc.sampler, tc.trials)
			}
			if e.CV["auc"] < 0.7 || e.Test["auc"] < 0.7 {
				t.Errorf("tuned logistic: cv %v test %v", e.CV["auc"], e.Test["auc"])
			}
		})
	}
}

// TestTuningTimeBudget gives a large trial budget and a short time budget:
// the search stops on the deadline, within one trial of it.
func TestTuningTimeBudget(t *testing.T) {
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"gbdt"}, 3, t.TempDir()
	cfg.EnableHyperparameterTuning, cfg.MaxEvals, cfg.TimeBudget = true, 1000, config.Duration(3*time.Second)
	start := time.Now()
	res, err := Train(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	info := res.Leaderboard[0].Tuning
	if info == nil || info.Stopped != "deadline" || info.Trials == 0 {
		t.Fatalf("tuning = %+v; want stopped on the deadline after some trials", info)
	}
	t.Logf("%d trials in %.1fs (budget 3s); run took %s", info.Trials, info.Seconds, time.Since(start))
}
