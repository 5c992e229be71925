package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"gonum.org/v1/gonum/stat"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/split"
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
// configuration) on the raw target and on each alternative that applies
// (targetAlternatives: the log, a time trend) and keeps the best by mean
// CV R² on y's scale; with log or trend it applies that transform. known,
// if not nil, is learner's CV on the run's folds, already computed. It
// returns nil when the target stays as it is.
func chooseTarget(ctx context.Context, cfg *config.Config, o Options, p *prepared, fam model.Family, name string,
	params json.RawMessage, learner model.Learner, known *cvResult, spec features.DesignSpec, workers int) (*targetChoice, error) {
	if p.task != model.Regression || cfg.ModelParams[name][model.TargetTransformKey] != nil {
		return nil, nil
	}
	var alts []targetAlternative
	switch cfg.TargetTransform {
	case config.TargetLog:
		alts = []targetAlternative{logTarget}
	case config.TargetTrend:
		if alts = trendTarget(cfg, p, fam); alts == nil {
			return nil, nil
		}
	case config.TargetAuto:
		alts = targetAlternatives(cfg, p, fam)
	default:
		return nil, nil
	}
	if cfg.TargetTransform != config.TargetAuto {
		lf := withTransform(fam, alts[0].params)
		l, err := lf.New(p.task, cfg.Seed, params)
		return &targetChoice{fam: lf, learner: l}, err
	}
	if len(p.folds) == 0 || len(alts) == 0 {
		return nil, nil
	}
	// On large data the choice is made on a subsample of every fold and
	// only the chosen learner is cross-validated in full (by the caller).
	q, sampled := p, false
	if len(p.train) > decideRows {
		q, sampled = p.subsampled(decideRows, cfg.Seed)
	}
	raw := known
	if sampled || raw == nil {
		var err error
		if raw, err = crossValidate(ctx, learner, spec, q, workers, nil); err != nil {
			return nil, err
		}
	}
	best := &targetChoice{fam: fam, learner: learner, cv: raw}
	bestR2 := meanOf(raw.folds, "r2")
	scores := []any{"model", name, "cv_r2_raw", bestR2}
	for _, a := range alts {
		af := withTransform(fam, a.params)
		al, err := af.New(p.task, cfg.Seed, params)
		if err != nil {
			return nil, err
		}
		cv, err := crossValidate(ctx, al, spec, q, workers, nil)
		if err != nil {
			o.Logger.Warn("target transform failed; not considered", "model", name, "transform", a.name, "err", err)
			continue
		}
		r2 := meanOf(cv.folds, "r2")
		scores = append(scores, "cv_r2_"+a.name, r2)
		if r2 > bestR2 {
			best, bestR2 = &targetChoice{fam: af, learner: al, cv: cv}, r2
		}
	}
	o.Logger.Info("target transform", append(scores, "subsampled", sampled)...)
	if sampled {
		best.cv = nil
	}
	return best, nil
}

// targetAlternative is a target transform auto may try: its name and the
// parameters that apply it.
type targetAlternative struct {
	name   string
	params map[string]any
}

// logTarget fits log(1+y).
var logTarget = targetAlternative{string(config.TargetLog), map[string]any{model.TargetTransformKey: model.TargetLog}}

// targetAlternatives are the transforms worth a cross-validation for fam
// on p: the log for a non-negative skewed target, and a linear time trend
// (trendTarget) when the folds are in time order, so that CV measures
// what the trend does to forecasts of later periods.
func targetAlternatives(cfg *config.Config, p *prepared, fam model.Family) []targetAlternative {
	var out []targetAlternative
	if logCandidate(p) {
		out = append(out, logTarget)
	}
	if p.timeOrderedCV() {
		out = append(out, trendTarget(cfg, p, fam)...)
	}
	return out
}

// trendTarget is the linear time trend for a family whose predictions
// stay within the training targets' range (trees), or nil when fam
// extrapolates by itself or p has no time features.
func trendTarget(cfg *config.Config, p *prepared, fam model.Family) []targetAlternative {
	tf := trendFeatures(cfg, p)
	if !fam.Bounded || tf == nil {
		return nil
	}
	return []targetAlternative{{string(config.TargetTrend),
		map[string]any{model.TargetTransformKey: model.TargetTrend, model.TrendFeaturesKey: tf}}}
}

// trendFeatures names the design columns that carry the time column's
// value: the column itself when it is numeric (a year, or year and
// month), a datetime column's year and month parts. It returns nil without
// a time column or when one is not among the features.
func trendFeatures(cfg *config.Config, p *prepared) []string {
	if cfg.TimeColumn == "" || p.x == nil {
		return nil
	}
	var out []string
	for _, name := range strings.Split(cfg.TimeColumn, ",") {
		name = strings.TrimSpace(name)
		c, ok := p.x.Lookup(name)
		if !ok {
			return nil
		}
		switch c.Kind {
		case frame.Datetime:
			out = append(out, name+"_year", name+"_month")
		case frame.Numeric:
			out = append(out, name)
		default:
			return nil
		}
	}
	return out
}

// decideRows is the most training rows the target transform is chosen
// on: the choice between two scales of one family needs far fewer rows
// than the family's score does.
const decideRows = 10_000

// subsampled returns a copy of p whose training part and folds keep a
// seeded random n of the training rows (in their order), for decisions
// that need not see every row. Its folds have their own memo keys. When
// thinning would leave a fold nearly empty it returns p and false.
func (p *prepared) subsampled(n int, seed uint64) (*prepared, bool) {
	keep := make([]bool, len(p.train))
	for _, i := range rand.New(rand.NewPCG(seed, 0x5ab5)).Perm(len(p.train))[:n] {
		keep[i] = true
	}
	q := *p
	q.foldTag = p.foldTag + fmt.Sprintf("sub%d:", n) // subsamples of differently thinned folds differ
	q.split = p.split + "|" + q.foldTag
	q.folds = make([]split.Fold, len(p.folds))
	thin := func(pos []int) []int {
		out := make([]int, 0, len(pos)*n/len(p.train)+1)
		for _, i := range pos {
			if keep[i] {
				out = append(out, i)
			}
		}
		return out
	}
	for i, f := range p.folds {
		q.folds[i] = split.Fold{Train: thin(f.Train), Test: thin(f.Test)}
		if len(q.folds[i].Train) < 20 || len(q.folds[i].Test) < 5 {
			return p, false
		}
	}
	return &q, true
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

// withTransform returns fam whose learners all apply the target
// transform set by extra (target_transform and its parameters), whatever
// parameters they are given: tuning trials then search the family on the
// chosen scale.
func withTransform(fam model.Family, extra map[string]any) model.Family {
	inner := fam.New
	fam.New = func(task model.Task, seed uint64, params json.RawMessage) (model.Learner, error) {
		m := map[string]json.RawMessage{}
		if len(params) > 0 {
			if err := json.Unmarshal(params, &m); err != nil {
				return inner(task, seed, params) // the family reports the parse error
			}
		}
		for k, v := range extra {
			raw, err := json.Marshal(v)
			if err != nil {
				return nil, err
			}
			m[k] = raw
		}
		raw, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		return inner(task, seed, raw)
	}
	return fam
}
