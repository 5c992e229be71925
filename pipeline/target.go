package pipeline

import (
	"context"
	"encoding/json"
	"math"
	"strconv"

	"gonum.org/v1/gonum/stat"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/model"
)

// minLogSkew is the target skewness from which target_transform auto
// tries the log: below it the log rarely helps and would double the CV
// cost for nothing.
const minLogSkew = 0.5

// targetChoice is a family's target transform chosen by cross-validation:
// the family and learner that apply it, and the CV of that learner.
type targetChoice struct {
	fam     model.Family
	learner model.Learner
	cv      *cvResult
}

// chooseTarget applies the configured target transform to a regression
// family. With auto it cross-validates learner (the family's untuned
// configuration) on the raw and on the log target and keeps the better
// by mean CV R² on y's scale; with log it applies the log. It returns nil
// when the target stays as it is.
func chooseTarget(ctx context.Context, cfg *config.Config, o Options, p *prepared, fam model.Family, name string,
	params json.RawMessage, learner model.Learner, spec features.DesignSpec, workers int) (*targetChoice, error) {
	if p.task != model.Regression || cfg.ModelParams[name][model.TargetTransformKey] != nil {
		return nil, nil
	}
	switch cfg.TargetTransform {
	case config.TargetLog:
		lf := withTransform(fam, model.TargetLog)
		l, err := lf.New(p.task, cfg.Seed, params)
		return &targetChoice{fam: lf, learner: l}, err
	case config.TargetAuto:
	default:
		return nil, nil
	}
	if len(p.folds) == 0 || !logCandidate(p) {
		return nil, nil
	}
	lf := withTransform(fam, model.TargetLog)
	logL, err := lf.New(p.task, cfg.Seed, params)
	if err != nil {
		return nil, err
	}
	raw, err := crossValidate(ctx, learner, spec, p, workers, nil)
	if err != nil {
		return nil, err
	}
	logged, err := crossValidate(ctx, logL, spec, p, workers, nil)
	if err != nil {
		o.Logger.Warn("log-target fit failed; keeping the raw target", "model", name, "err", err)
		return &targetChoice{fam: fam, learner: learner, cv: raw}, nil
	}
	rawR2, logR2 := meanOf(raw.folds, "r2"), meanOf(logged.folds, "r2")
	o.Logger.Info("target transform", "model", name, "cv_r2_raw", rawR2, "cv_r2_log", logR2)
	if logR2 > rawR2 {
		return &targetChoice{fam: lf, learner: logL, cv: logged}, nil
	}
	return &targetChoice{fam: fam, learner: learner, cv: raw}, nil
}

// logCandidate reports whether the training target is non-negative and
// skewed enough for the log to be worth a try.
func logCandidate(p *prepared) bool {
	y := make([]float64, len(p.train))
	for i, r := range p.train {
		v := p.y[r]
		if !(v >= 0) || math.IsInf(v, 0) {
			return false
		}
		y[i] = v
	}
	return len(y) > 2 && stat.Skew(y, nil) >= minLogSkew
}

// withTransform returns fam whose learners all apply target transform t,
// whatever parameters they are given: tuning trials then search the
// family on the chosen scale.
func withTransform(fam model.Family, t string) model.Family {
	inner := fam.New
	fam.New = func(task model.Task, seed uint64, params json.RawMessage) (model.Learner, error) {
		m := map[string]json.RawMessage{}
		if len(params) > 0 {
			if err := json.Unmarshal(params, &m); err != nil {
				return inner(task, seed, params) // the family reports the parse error
			}
		}
		m[model.TargetTransformKey] = json.RawMessage(strconv.Quote(t))
		raw, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		return inner(task, seed, raw)
	}
	return fam
}
