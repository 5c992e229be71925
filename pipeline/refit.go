package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tabforge/tabforge/model"
)

// refit, when refit_all is on, fits the chosen model's learner again on
// the training and the test rows together and saves that model instead:
// the choice and the recorded metrics come from the fit on the training
// rows, judged on test rows it had not seen, and the deployed model then
// learns from those rows too. On temporal data they are the newest rows,
// the ones most like what it will predict. The fit on the training rows
// is kept beside it (Result.HoldoutModelPath), since its test scores are
// the honest ones.
//
// An ensemble, per-segment routes or a candidate from the step cache
// keep their fit on the training rows, with a warning.
func (r *trainRun) refit(ctx context.Context) error {
	if !r.cfg.RefitAll {
		return nil
	}
	best := r.res.Leaderboard[0]
	c, ok := r.byLabel[best.Model]
	switch {
	case r.final.Routes != nil || len(r.final.Members) > 0 || !ok:
		r.warn(fmt.Sprintf("refit_all: the best model %s is an ensemble or routed per segment; it keeps its fit on the training rows", best.Model))
		return nil
	case best.learner == nil:
		r.warn(fmt.Sprintf("refit_all: the best model %s came from the step cache; it keeps its fit on the training rows", best.Model))
		return nil
	}
	q := *r.p
	q.chain, q.variant = c.chain, strings.TrimPrefix(c.label, c.family)
	all := slices.Concat(r.p.train, r.p.test)
	slices.Sort(all)
	fit, err := fitScore(ctx, best.learner, best.spec, &q, "", all, r.p.test, model.FitOptions{Workers: r.cfg.Workers})
	if err != nil {
		return fmt.Errorf("refit_all: %s: %w", best.Model, err)
	}
	r.heldOut = r.final
	r.final = &Predictor{Target: r.final.Target, Schema: schemaOf(r.p.x, all), Chain: fit.chain, Design: fit.design, Model: fit.model,
		Name: r.final.Name, RunID: r.final.RunID, Dataset: r.final.Dataset}
	r.res.RefitRows = len(all)
	r.log.Info("refit on training and test rows", "model", best.Model, "rows", len(all))
	return nil
}
