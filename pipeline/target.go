package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"gonum.org/v1/gonum/stat"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/features"
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
// configuration) on the raw and on the log target and keeps the better
// by mean CV R² on y's scale; with log it applies the log. known, if not
// nil, is learner's CV on the run's folds, already computed. It returns
// nil when the target stays as it is.
func chooseTarget(ctx context.Context, cfg *config.Config, o Options, p *prepared, fam model.Family, name string,
	params json.RawMessage, learner model.Learner, known *cvResult, spec features.DesignSpec, workers int) (*targetChoice, error) {
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
	// On large data the choice is made on a subsample of every fold and
	// only the chosen learner is cross-validated in full (by the caller).
	q, sampled := p, false
	if len(p.train) > decideRows {
		q, sampled = p.subsampled(decideRows, cfg.Seed)
	}
	raw := known
	if sampled || raw == nil {
		if raw, err = crossValidate(ctx, learner, spec, q, workers, nil); err != nil {
			return nil, err
		}
	}
	keep := func(f model.Family, l model.Learner, cv *cvResult) *targetChoice {
		if sampled {
			cv = nil
		}
		return &targetChoice{fam: f, learner: l, cv: cv}
	}
	logged, err := crossValidate(ctx, logL, spec, q, workers, nil)
	if err != nil {
		o.Logger.Warn("log-target fit failed; keeping the raw target", "model", name, "err", err)
		return keep(fam, learner, raw), nil
	}
	rawR2, logR2 := meanOf(raw.folds, "r2"), meanOf(logged.folds, "r2")
	o.Logger.Info("target transform", "model", name, "cv_r2_raw", rawR2, "cv_r2_log", logR2, "subsampled", sampled)
	if logR2 > rawR2 {
		return keep(lf, logL, logged), nil
	}
	return keep(fam, learner, raw), nil
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
	q.foldTag = fmt.Sprintf("sub%d:", n)
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
