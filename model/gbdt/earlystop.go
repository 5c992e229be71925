package gbdt

import (
	"context"
	"fmt"
	"math"

	"github.com/tabforge/tabforge/model"
)

// Fit trains a model on d; it implements model.Learner. If
// EarlyStoppingRounds > 0 and ValidationFraction > 0 it first holds out
// about ValidationFraction of the rows for early stopping: the latest
// rows when d.Time orders them (rows sharing a time on one side), else a
// seeded random draw. With Refit it then
// trains again on all rows (see Params.Refit).
func (p Params) Fit(ctx context.Context, d *model.Dataset, o model.FitOptions) (model.Model, error) {
	// One row leaves none to hold out: train without stopping.
	if p.EarlyStoppingRounds <= 0 || p.ValidationFraction <= 0 || d.X.Rows < 2 {
		m, err := Train(ctx, p, d, nil, o)
		if err != nil {
			return nil, err
		}
		return m, nil
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("gbdt: %w", err)
	}
	if !(p.ValidationFraction < 0.5) {
		return nil, fmt.Errorf("gbdt: validation_fraction %v must be in (0, 0.5)", p.ValidationFraction)
	}
	train, valid := holdout(d, p.ValidationFraction, p.Seed)
	m, err := Train(ctx, p, train, valid, o)
	if err != nil || !p.Refit {
		return m, err
	}
	full := p
	full.EarlyStoppingRounds, full.ValidationFraction, full.Refit = 0, 0, false
	full.NEstimators = refitRounds(m.Rounds(), train.X.Rows, d.X.Rows)
	r, err := Train(ctx, full, d, nil, o)
	if err != nil {
		return nil, fmt.Errorf("gbdt: refit on all rows: %w", err)
	}
	r.bestScore = m.bestScore
	return r, nil
}

// refitRounds scales the rounds found on trainRows to allRows: each round
// takes a step of the same size, and with more rows the fit keeps
// improving for proportionally longer (the rule of LightGBM's and
// XGBoost's users when refitting on train+validation).
func refitRounds(rounds, trainRows, allRows int) int {
	return max(1, int(math.Round(float64(rounds)*float64(allRows)/float64(trainRows))))
}

// Rounds returns the number of boosting rounds the model holds: after
// early stopping, the best round's.
func (m *Model) Rounds() int {
	k := max(1, m.numClass)
	if m.task != model.Multiclass {
		k = 1
	}
	return len(m.trees) / k
}
