package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/config"
)

// TestTuningFallbackReason: a study that completes no trial falls back to
// the family defaults and its tuning info says why. A time budget too
// short for one trial names the time budget; a study whose every trial
// was pruned (hyperband prunes a trial whose running score is undefined:
// r2 of one-row folds) names the pruning. The second used to be blamed
// on the time budget too, though none was set.
func TestTuningFallbackReason(t *testing.T) {
	tiny := filepath.Join(t.TempDir(), "five.csv")
	if err := os.WriteFile(tiny, []byte("x,y\n1,2\n2,5\n3,4\n4,9\n5,7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		set     func(*config.Config)
		stopped string
		want    string
	}{
		{"deadline", func(c *config.Config) {
			c.Data, c.Target, c.Models, c.CVFolds = filepath.Join("..", "testdata", "credit_data.csv"), "Status", []string{"gbdt"}, 3
			c.MaxEvals, c.TimeBudget = 50, config.Duration(time.Nanosecond) // no gbdt CV fits in it
		}, "deadline", "no trial completed within the time budget; family defaults used"},
		{"pruned", func(c *config.Config) {
			c.Data, c.Target, c.Models, c.CVFolds = tiny, "y", []string{"tree"}, 4
			c.MaxEvals, c.Pruner = 3, config.PrunerHyperband
		}, "max_trials", "no trial completed: all 3 were pruned; family defaults used"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Out, cfg.EnableHyperparameterTuning, cfg.ForceProductionQuality = t.TempDir(), true, false
			tc.set(cfg)
			res, err := Train(context.Background(), cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			info := res.Leaderboard[0].Tuning
			if info == nil || info.Sampler != "none" || info.Stopped != tc.stopped || info.Fallback != tc.want {
				t.Fatalf("tuning = %+v; want stopped %q, fallback %q", info, tc.stopped, tc.want)
			}
			if strings.Contains(tc.want, "pruned") && strings.Contains(info.Fallback, "budget") {
				t.Errorf("fallback %q blames the time budget", info.Fallback)
			}
		})
	}
}
