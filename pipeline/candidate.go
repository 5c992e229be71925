package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/progress"
	"github.com/tabforge/tabforge/split"
	"github.com/tabforge/tabforge/tune"
)

// maxOneHotLevels caps a one-hot column at its most frequent levels, the
// rest pooled into one: a column of 10,000 ids would otherwise give the
// linear families 10,000 columns (201 s and 1.6 GB for ridge on 10,000
// rows). No column of the meta corpus has more than 200 levels.
const maxOneHotLevels = 1000

// minOneHotCount is the fewest training rows a level of a column
// maxOneHotLevels caps must have to keep a one-hot column of its own; the
// rest join the pool. Of a 50,000-level id column on 48,000 training rows
// the 1,000 most frequent levels were seen twice each: 1,000 dense columns
// that took ridge to 1.9 GB and 97 s for a CV r2 of 0.4474, against
// 0.4456 in 177 MB and 3.7 s pooled. Five rows put a level's mean within
// about 0.45 noise standard deviations of the truth; LightGBM asks 100
// rows (min_data_per_group) of a categorical split's group. Columns of up
// to 1,000 levels, every column of the meta corpus, are not affected.
const minOneHotCount = 5

// maxOneHotCells caps rows × one-hot columns of a design fitted on that
// many training rows, so that its one-hot part of the dense matrix takes
// at most 1 GiB: on 1M rows with categorical columns of 500 to 10,000
// levels, the 1,000-level cap alone gave ols 2,672 columns, matrices
// over 8 GB per cross-validation fold and 17 GB for the final fit. It
// leaves 13,421 one-hot columns on 10,000 rows and 1,342 on 100,000.
const maxOneHotCells = 1 << 27

// designSpec is the design family fam reads when trained on rows rows.
// Every fold of a candidate gets the spec of its whole training part, so
// that the folds are cross-validated with the design the final fit uses.
func designSpec(fam model.Family, rows int) features.DesignSpec {
	spec := features.DesignSpec{OneHot: fam.Input.OneHot, Scale: fam.Input.Scale, Missing: fam.Input.Missing}
	if spec.OneHot {
		spec.MaxOneHotLevels = maxOneHotLevels
		spec.MinOneHotCount = minOneHotCount
		spec.MaxOneHotColumns = maxOneHotCells / max(rows, 1)
	}
	return spec
}

// runCandidate cross-validates one model family on the training part,
// then fits it on the whole training part and scores it on the test part.
func runCandidate(ctx context.Context, cfg *config.Config, o Options, p *prepared, name string, idx, total int) (Entry, *Predictor, error) {
	fam, params, learner, err := configuredLearner(cfg, o, p, name)
	if err != nil {
		return Entry{}, nil, err
	}
	spec := designSpec(fam, len(p.train))
	workers := model.FitOptions{Workers: cfg.Workers}.NumWorkers()
	// On large data the family's cross-validations may train on a
	// subsample of each fold (cvp) to keep its time budget; the final fit
	// below sees every training row of p.
	cvp, budget, err := withinBudget(ctx, cfg, o, p, fam, name, learner, spec, workers)
	if err != nil {
		return Entry{}, nil, err
	}
	zs, err := chooseZeroShot(ctx, cfg, o, cvp, fam, name, params, learner, spec, workers)
	if err != nil {
		return Entry{}, nil, err
	}
	var known *cvResult
	if zs != nil {
		params, learner, known = zs.params, zs.learner, zs.cv
	}
	chosen, err := chooseTarget(ctx, cfg, o, cvp, fam, name, params, learner, known, spec, workers)
	if err != nil {
		return Entry{}, nil, err
	}
	if chosen != nil {
		fam, learner = chosen.fam, chosen.learner
	} else if known != nil {
		chosen = &targetChoice{fam: fam, learner: learner, cv: known}
	}
	steps := len(p.folds) + 1
	emit := func(step int) {
		o.Progress.Emit(progress.Event{Stage: progress.Candidate, Name: name, Step: idx*steps + step, Total: total * steps})
	}

	entry := Entry{Model: name, Budget: budget}
	if zs != nil {
		entry.ZeroShot, entry.ZeroShotChecked = zs.label, zs.checked
	}
	var cv *cvResult
	switch {
	case cfg.EnableHyperparameterTuning && len(p.folds) > 0 && len(tune.SpaceFor(name, p.task).Names()) > 0:
		t, err := tuneOrDefaults(ctx, cfg, o, p, fam, name, learner, spec, workers)
		if err != nil {
			return Entry{}, nil, err
		}
		learner, entry.Tuning, cv = t.learner, t.info, t.cv
		entry.setCV(cv, p.task)
		emit(len(p.folds))
	case len(p.folds) > 0:
		if chosen != nil {
			cv = chosen.cv
		}
		if cv == nil {
			if cv, err = crossValidate(ctx, learner, spec, cvp, workers, nil); err != nil {
				return Entry{}, nil, err
			}
		}
		entry.setCV(cv, p.task)
		emit(len(p.folds))
	}
	if cv != nil {
		learner = model.PoolStopRates(learner, cv.stopRates)
	}

	t0 := time.Now()
	final, err := fitScore(ctx, learner, spec, p, "final", p.train, p.test, model.FitOptions{Workers: workers})
	if err != nil {
		return Entry{}, nil, err
	}
	emit(steps)
	entry.FitSeconds = round(time.Since(t0).Seconds(), 4)
	entry.Test = final.metrics
	entry.Params = final.model.Params()
	entry.learner, entry.spec = learner, spec
	entry.testPred = final.pred
	pred := &Predictor{Target: Target{Name: cfg.Target, Task: p.task, Classes: p.classes}, Chain: final.chain, Design: final.design, Model: final.model}
	return entry, pred, nil
}

// configuredLearner builds the family's learner from the config's
// model_params for it, so that every later step starts from the same
// parameters the user asked for. The params come back too: zero-shot and
// target choices start from them.
func configuredLearner(cfg *config.Config, o Options, p *prepared, name string) (model.Family, json.RawMessage, model.Learner, error) {
	fam, err := o.Families.Lookup(name)
	if err != nil {
		return model.Family{}, nil, nil, err
	}
	var params json.RawMessage
	if mp := familyParams(cfg, name, p.task, len(p.train)); mp != nil {
		if params, err = json.Marshal(mp); err != nil {
			return model.Family{}, nil, nil, fmt.Errorf("model_params %s: %w", name, err)
		}
	}
	learner, err := fam.New(p.task, cfg.Seed, params)
	if err != nil {
		return model.Family{}, nil, nil, err
	}
	return fam, params, learner, nil
}

// tuneOrDefaults tunes the family and, when no trial completed (none fit
// in its share of the time budget, or every one was pruned), cross-
// validates learner (the defaults) instead, as with tuning off, and says
// why in the tuning info: a tight budget should cost the candidate its
// tuning, not its place on the leaderboard.
func tuneOrDefaults(ctx context.Context, cfg *config.Config, o Options, p *prepared, fam model.Family, name string, learner model.Learner, spec features.DesignSpec, workers int) (*tuned, error) {
	t, err := tuneCandidate(ctx, cfg, o, p, fam, name, spec, workers)
	if nt := (*noTrialError)(nil); errors.As(err, &nt) {
		o.Logger.Warn("tuning fell back to the family defaults", "model", name, "reason", nt.Error())
		cv, err := crossValidate(ctx, learner, spec, p, workers, nil)
		if err != nil {
			return nil, err
		}
		info := &TuningInfo{Sampler: "none", Stopped: string(nt.Stopped), Fallback: nt.Error() + "; family defaults used"}
		return &tuned{learner: learner, cv: cv, info: info}, nil
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// cvResult is a learner's cross-validation on the training part.
type cvResult struct {
	mean, std eval.Metrics
	folds     []eval.Metrics // per fold, in fold order
	// oof holds the out-of-fold predictions, NumOutputs per training row
	// (positions in p.train); rows no fold tests (time-series CV) are NaN.
	oof []float64
	// ran says where and how long each fold's unit ran (no values).
	ran []UnitResult
	// stopRates are the folds' early-stopping rates (model.StopRate), for
	// the final fit to pool with its own; empty without early stopping.
	stopRates []float64
	// keys are the folds' step cache keys, "" for a fold not cached (a
	// learner that does not encode).
	keys []string
}

// setCV records a candidate's cross-validation on its leaderboard entry.
func (e *Entry) setCV(cv *cvResult, task model.Task) {
	e.CV, e.CVStd, e.oof, e.foldKeys = cv.mean, cv.std, cv.oof, cv.keys
	e.CVFolds, e.CVUndefined = len(cv.folds), eval.Undefined(cv.folds)
	e.foldScores = foldScores(cv.folds, PrimaryMetric(task))
	if task != model.Regression {
		e.foldLogLoss = foldScores(cv.folds, eval.KeyLogLoss)
	}
}

// foldReport is told, in fold order, the metrics of folds 0..step-1 once
// they are all done; an error stops the cross-validation and is returned
// (tune.ErrPruned, for pruning).
type foldReport func(step int, folds []eval.Metrics) error

// crossValidate scores a learner on the CV folds of the training part,
// one Unit per fold through the run's executor. Folds run side by side,
// each learner single-threaded: on small data that beats parallelism
// inside one fit. report, if not nil, sees the running scores in fold
// order. On error the result holds only where the finished folds ran.
func crossValidate(ctx context.Context, l model.Learner, spec features.DesignSpec, p *prepared, workers int, report foldReport) (*cvResult, error) {
	foldWorkers := min(workers, len(p.folds))
	inner := model.FitOptions{Workers: max(1, workers/foldWorkers)}
	units := make([]Unit, len(p.folds))
	keys := make([]string, len(p.folds))
	for i, f := range p.folds {
		units[i] = p.foldUnit(l, spec, i, f, inner)
		keys[i] = units[i].Key
	}
	var (
		oof   []float64
		done  = make([]eval.Metrics, len(p.folds))
		rates = make([]float64, len(p.folds))
		next  int // folds 0..next-1 are done and reported
	)
	exec := p.exec
	if exec == nil {
		exec = Local{Workers: foldWorkers}
	}
	ran := make([]UnitResult, len(p.folds))
	err := exec.Execute(ctx, units, func(i int, r UnitResult) error {
		fold, err := decodeFold(r.Value)
		if err != nil {
			return fmt.Errorf("fold %d: %w", i+1, err)
		}
		if oof, err = placeFold(oof, len(p.train), p.folds[i], fold.pred); err != nil {
			return fmt.Errorf("fold %d: %w", i+1, err)
		}
		done[i], rates[i] = fold.metrics, fold.stopRate
		r.Value, ran[i] = nil, r
		for report != nil && next < len(done) && done[next] != nil {
			next++
			if err := report(next, done[:next]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return &cvResult{ran: ran}, err // where the folds that finished ran, for the study
	}
	mean, std := eval.Summarize(done)
	// A metric undefined on every fold, or the spread of a single fold,
	// is absent rather than NaN (which JSON cannot carry).
	cv := &cvResult{mean: dropNaN(mean), std: dropNaN(std), folds: done, oof: oof, ran: ran, keys: keys}
	// Rates found on a subsample's folds say little about fitting every
	// row: rounds grow with rows only roughly, and not twentyfold. Under
	// time-ordered CV the final fit's own holdout is the latest rows, the
	// nearest to what it will predict, while the expanding windows' folds
	// found theirs on shorter, older histories: on the meta corpus's 16
	// temporal datasets (gbdt alone) pooling those won 2 and lost 6.
	if p.foldTag == "" && !p.timeOrderedCV() {
		cv.stopRates = slices.DeleteFunc(rates, func(r float64) bool { return r == 0 })
	}
	return cv, nil
}

// placeFold writes the predictions pred on fold f's held-out rows into
// oof, the out-of-fold predictions of n training rows, made (rows no fold
// holds out NaN) when nil, with the outputs per row pred has.
func placeFold(oof []float64, n int, f split.Fold, pred []float64) ([]float64, error) {
	k := len(pred) / max(1, len(f.Test))
	if oof == nil {
		oof = make([]float64, n*k)
		for j := range oof {
			oof[j] = math.NaN()
		}
	}
	if len(pred) != len(f.Test)*k || len(oof) != n*k {
		return nil, fmt.Errorf("%d predictions for %d held-out rows, %d per row", len(pred), len(f.Test), len(oof)/max(1, n))
	}
	for j, row := range f.Test {
		copy(oof[row*k:(row+1)*k], pred[j*k:(j+1)*k])
	}
	return oof, nil
}

// foldSpec is a fold unit's work by reference: a worker holding the
// dataset version and the run's split recomputes it from these (see
// UnitRunner): the run record gives the config and the dataset's path.
type foldSpec struct {
	runRef
	Split   string              `json:"split"`
	Fold    int                 `json:"fold"`
	Learner string              `json:"learner"`
	Params  json.RawMessage     `json:"params"`
	Design  features.DesignSpec `json:"design"`
	Chain   []string            `json:"chain,omitempty"`
	// Thin is the fold tag of folds thinned for a time budget or a
	// decision on a subsample ("" for the run's own folds), for the worker
	// to thin its folds alike (see prepared.rethin).
	Thin string `json:"thin,omitempty"`
}

// runRef names the run a unit belongs to, with the config hash the run
// recorded and its dataset's content hash: a worker rebuilds the run's
// prepared data from its record (see UnitRunner).
type runRef struct {
	Run     string `json:"run"`
	Config  string `json:"config"`
	Dataset string `json:"dataset"`
}

func (p *prepared) ref() runRef { return runRef{Run: p.run, Config: p.cfgHash, Dataset: p.dataset} }

// foldUnit is the unit that fits l on fold i's training rows and scores
// it on the fold's held-out rows, through the step cache.
func (p *prepared) foldUnit(l model.Learner, spec features.DesignSpec, i int, f split.Fold, fo model.FitOptions) Unit {
	params, _ := json.Marshal(l) // a learner that does not encode has a spec without params
	fs, _ := json.Marshal(foldSpec{runRef: p.ref(), Split: p.split, Fold: i, Learner: learnerType(l),
		Params: params, Design: spec, Chain: chainID(p.chain), Thin: p.foldTag})
	key, _ := p.foldKey(l, spec, split.Take(p.train, f.Train), split.Take(p.train, f.Test))
	return Unit{Key: key, Kind: "fold", Spec: fs, Run: func(ctx context.Context) ([]byte, error) {
		r, err := p.cachedFold(ctx, l, spec, fmt.Sprintf("%sfold%d", p.foldTag, i), split.Take(p.train, f.Train), split.Take(p.train, f.Test), fo)
		if err != nil {
			return nil, fmt.Errorf("fold %d: %w", i+1, err)
		}
		return encodeFold(r)
	}}
}

// fitResult is a fitted candidate and its scores on the rows it was
// evaluated on.
type fitResult struct {
	metrics eval.Metrics
	chain   features.FittedChain
	design  *features.Design
	model   model.Model
	pred    []float64 // NumOutputs values per evaluated row
	// stopRate is the rounds per training row the learner's early
	// stopping found (model.StopRate), 0 without.
	stopRate float64
}

// fitScore fits the preprocessing and the learner on trainRows and scores
// the result on evalRows (positions into p.x and p.y). A non-empty key
// memoises the preprocessing (see prepared.preprocess).
func fitScore(ctx context.Context, l model.Learner, spec features.DesignSpec, p *prepared, key string, trainRows, evalRows []int, fo model.FitOptions) (*fitResult, error) {
	pre, err := p.preprocess(ctx, key, spec, trainRows, evalRows)
	if err != nil {
		return nil, err
	}
	m, err := l.Fit(ctx, pre.train, fo)
	if err != nil {
		return nil, err
	}
	pred := make([]float64, pre.eval.Rows*m.NumOutputs())
	if err := m.Predict(pred, pre.eval); err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	metrics, err := taskMetrics(p.task, split.Take(p.y, evalRows), pred, len(p.classes))
	if err != nil {
		return nil, err
	}
	rate, _ := model.StopRate(m)
	return &fitResult{metrics: metrics, chain: pre.chain, design: pre.design, model: m, pred: pred, stopRate: rate}, nil
}

func dataset(design *features.Design, x *frame.Frame, y []float64, p *prepared) (*model.Dataset, error) {
	mat, err := design.Matrix(x)
	if err != nil {
		return nil, fmt.Errorf("preprocessing: %w", err)
	}
	d := &model.Dataset{X: mat, Y: y, Task: p.task, NumClasses: len(p.classes),
		FeatureNames: design.FeatureNames(), Categorical: design.Categorical()}
	return d, d.Validate()
}

// taskMetrics scores predictions (NumOutputs values per row) against y.
func taskMetrics(task model.Task, y, pred []float64, classes int) (eval.Metrics, error) {
	if task == model.Regression {
		return eval.Regression(y, pred)
	}
	return eval.Classification(y, pred, classes)
}

// candidates fits every configured family (tuned when tuning is on) on
// each feature variant. A candidate that fails is a leaderboard line and
// a warning, not a failed run.
func (r *trainRun) candidates(ctx context.Context) error {
	names, more, err := candidates(r.cfg, r.o.Families, r.p.task)
	r.warn(more...)
	r.warn(needCV(r.cfg, len(r.p.folds))...)
	if err != nil {
		return err
	}
	r.warn(ignoredSearches(r.cfg, names, r.p.task, len(r.p.folds))...)
	r.warn(unusedModelParams(r.cfg, r.o.Families)...)
	r.fitted = make(map[string]*Predictor, len(names))
	r.cands = variants(names, r.p.chain, r.cfg.CompareBasicFeatures)
	r.byLabel = make(map[string]candidate, len(r.cands))
	for _, c := range r.cands {
		r.byLabel[c.label] = c
	}
	schema := schemaOf(r.p.x, r.p.train)
	for ci, c := range r.cands {
		if err := ctx.Err(); err != nil {
			return err
		}
		entry, pred, err := r.candidate(ctx, ci, c)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, ErrNoWorkers) {
				return fmt.Errorf("model %s: %w", c.label, err)
			}
			entry = Entry{Model: c.label, Error: err.Error()}
			if ob := (*overBudgetError)(nil); errors.As(err, &ob) {
				// Not a failure: the family would not fit its time budget.
				entry.Budget = ob.info
				r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("model %s not trained: %v", c.label, err))
			} else {
				r.log.Warn("candidate failed", "model", c.label, "err", err)
				r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("model %s failed: %v", c.label, err))
			}
		} else {
			if entry.Budget != nil {
				r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("model %s: family_budget: %s", c.label, entry.Budget.Reason))
			}
			pred.Name, pred.Schema, pred.RunID, pred.Dataset = c.label, schema, r.res.RunID, r.res.DatasetHash
			r.fitted[c.label] = pred
			r.log.Info("candidate done", "model", c.label, "cv_"+r.res.Metric, metricOrNaN(entry.CV, r.res.Metric), "test_"+r.res.Metric, metricOrNaN(entry.Test, r.res.Metric), "fit_seconds", round(entry.FitSeconds, 3))
		}
		r.res.Leaderboard = append(r.res.Leaderboard, entry)
		r.p.memo.release(r.laterNeed(ci))
	}
	return nil
}

// laterNeed reports whether a candidate after the ci-th reads the
// preprocessing of a variant and design inputs (see memo.release). A
// family it cannot look up counts as needing everything.
func (r *trainRun) laterNeed(ci int) func(variant string, in model.Input) bool {
	return func(variant string, in model.Input) bool {
		for _, c := range r.cands[ci+1:] {
			fam, err := r.o.Families.Lookup(c.family)
			if err != nil || (strings.TrimPrefix(c.label, c.family) == variant && fam.Input == in) {
				return true
			}
		}
		return false
	}
}

// candidate runs the ci-th candidate, through the step cache when there
// is one.
func (r *trainRun) candidate(ctx context.Context, ci int, c candidate) (Entry, *Predictor, error) {
	t0 := time.Now()
	q := *r.p
	q.chain, q.variant = c.chain, strings.TrimPrefix(c.label, c.family)
	for _, c := range r.cands {
		q.pending = append(q.pending, c.family)
	}
	q.pendingAt = ci
	if r.p.cache != nil {
		r.p.candKeys = append(r.p.candKeys, q.candidateKey(r.cfg, c.family))
	}
	entry, pred, err := q.cachedCandidate(ctx, r.cfg, c.family, func() (Entry, *Predictor, error) {
		return runCandidate(ctx, r.cfg, r.o, &q, c.family, ci, len(r.cands))
	})
	entry.Model = c.label
	r.res.Timings["candidate:"+c.label] = since(t0)
	return entry, pred, err
}
