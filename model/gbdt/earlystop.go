package gbdt

import (
	"context"
	"fmt"
	"math"
	"slices"

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
	if err != nil {
		return nil, err
	}
	m.stopRate = float64(m.Rounds()) / float64(train.X.Rows)
	if !p.Refit {
		return m, nil
	}
	full := p
	full.EarlyStoppingRounds, full.ValidationFraction, full.Refit, full.PooledStopRates = 0, 0, false, nil
	full.NEstimators = refitRounds(append(slices.Clip(p.PooledStopRates), m.stopRate), d.X.Rows)
	r, err := Train(ctx, full, d, nil, o)
	if err != nil {
		return nil, fmt.Errorf("gbdt: refit on all rows: %w", err)
	}
	r.bestScore, r.stopRate = m.bestScore, m.stopRate
	return r, nil
}

// refitRounds scales the mean of rates, rounds found per training row, to
// rows: each round takes a step of the same size, and with more rows the
// fit keeps improving for proportionally longer (the rule of LightGBM's
// and XGBoost's users when refitting on train+validation).
func refitRounds(rates []float64, rows int) int {
	var sum float64
	for _, r := range rates {
		sum += r
	}
	return max(1, int(math.Round(sum/float64(len(rates))*float64(rows))))
}

// StopRate returns the rounds early stopping found per row of the part it
// trained on; ok is false when the model did not stop early. It
// implements model.StopRater.
func (m *Model) StopRate() (float64, bool) { return m.stopRate, m.stopRate > 0 }

// PoolStopRates returns p refitting, after early stopping, for the mean
// of rates and the rate it finds (see Params.PooledStopRates). It
// implements model.RatePooler.
func (p Params) PoolStopRates(rates []float64) model.Learner {
	p.PooledStopRates = slices.Clone(rates)
	return p
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
