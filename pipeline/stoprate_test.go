package pipeline

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/gbdt"
)

// TestFinalFitPoolsFoldStopRates: an untuned gbdt's final fit trains for
// the mean of the rounds per row its CV folds' early stopping found and
// its own holdout's, not its own alone (one 10% holdout is a noisy judge),
// also inside a target transform; the folds' rates come back through the
// fold units' result bytes.
func TestFinalFitPoolsFoldStopRates(t *testing.T) {
	cases := []struct {
		name, data, target string
		transform          config.TargetTransform
	}{
		{"binary", "credit_data.csv", "Status", config.TargetNone},
		{"log target", "ames.csv", "Sale_Price", config.TargetLog},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			cfg := config.Default()
			cfg.Data, cfg.Target, cfg.Models, cfg.CVFolds = filepath.Join("..", "testdata", c.data), c.target, []string{"gbdt"}, 3
			cfg.TargetTransform, cfg.Out = c.transform, t.TempDir()
			p, o := preparedRun(t, cfg)
			fam, _, learner, err := configuredLearner(cfg, o, p, "gbdt")
			if err != nil {
				t.Fatal(err)
			}
			if c.transform == config.TargetLog {
				learner = &model.LogTargetLearner{Inner: learner}
			}
			cv, err := crossValidate(ctx, learner, designSpec(fam, len(p.train)), p, 2, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(cv.stopRates) != len(p.folds) {
				t.Fatalf("%d fold stop rates for %d folds", len(cv.stopRates), len(p.folds))
			}
			_, pred, err := runCandidate(ctx, cfg, o, p, "gbdt", 0, 1)
			if err != nil {
				t.Fatal(err)
			}
			own, ok := model.StopRate(pred.Model)
			if !ok {
				t.Fatal("the final gbdt reports no stop rate")
			}
			sum := own
			for _, r := range cv.stopRates {
				sum += r
			}
			want := int(math.Round(sum / float64(len(cv.stopRates)+1) * float64(len(p.train))))
			inner := pred.Model
			if u, ok := inner.(interface{ Unwrap() model.Model }); ok {
				inner = u.Unwrap()
			}
			if got := inner.(*gbdt.Model).Rounds(); got != want {
				t.Errorf("final fit holds %d rounds; want %d (fold rates %v and its own %.5f per row × %d rows)",
					got, want, cv.stopRates, own, len(p.train))
			}
		})
	}
}
