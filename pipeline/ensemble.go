package pipeline

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/ensemble"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/split"
)

// Ensemble entry names on the leaderboard.
const (
	ensembleAverage   = "ensemble:average"
	ensembleVoting    = "ensemble:voting"
	ensembleStacking  = "ensemble:stacking"
	ensembleSelection = "ensemble:selection"
)

// fittedWeights orders the ensembles by how much their combiner learns
// from the out-of-fold predictions: none for the equal-weight average
// and vote, one weight per member for stacking, a greedy search over
// every candidate for selection.
var fittedWeights = map[string]int{ensembleAverage: 0, ensembleVoting: 0, ensembleStacking: 1, ensembleSelection: 2}

// ensembleSpec is one ensemble to build: its members (indices into the
// pool, best first) and how to fit its combiner on out-of-fold
// predictions.
type ensembleSpec struct {
	name    string
	members []int
	// fit returns the combiner for member predictions oof on the rows
	// with targets y.
	fit func(ctx context.Context, oof [][]float64, y []float64) (*ensemble.Combiner, error)
}

// buildEnsembles combines the successful candidates of lb into the
// ensembles the config enables (see ensembleSpecs). Each is scored by
// cross-validation on the candidates' out-of-fold predictions — a
// combiner with fitted parts (stacking, selection) is fitted, per fold,
// on the out-of-fold predictions of that fold's training rows only — and
// on the test rows by combining the members refitted on the whole
// training part. Each ensemble's fit is a unit of work on the run's
// executor (see runEnsembles). It returns the ensembles' leaderboard
// entries and predictors, and warnings.
func buildEnsembles(ctx context.Context, cfg *config.Config, p *prepared, lb []Entry, fitted map[string]*Predictor) ([]Entry, map[string]*Predictor, []string) {
	metric := PrimaryMetric(p.task)
	var pool []Entry
	for _, e := range lb {
		if e.Error == "" && e.oof != nil && e.testPred != nil && fitted[e.Model] != nil && len(fitted[e.Model].Members) == 0 {
			if v, ok := e.CV[metric]; ok && !math.IsNaN(v) {
				pool = append(pool, e)
			}
		}
	}
	if len(pool) < 2 {
		return nil, nil, nil
	}
	pool = slices.Clone(pool)
	rank(pool, metric)
	outputs := len(pool[0].oof) / len(p.train)
	covered := coveredRows(p, pool, outputs)
	if len(covered) == 0 {
		return nil, nil, []string{"ensembles skipped: no training row has every candidate's out-of-fold prediction"}
	}
	specs, warnings := ensembleSpecs(cfg, p, len(pool), outputs)
	entries, preds, more := runEnsembles(ctx, p, specs, pool, fitted, covered, outputs)
	return entries, preds, append(warnings, more...)
}

// coveredRows returns the training rows (positions in p.train) every
// member of pool has an out-of-fold prediction for: all of them, but for
// the first block of a time-series CV.
func coveredRows(p *prepared, pool []Entry, outputs int) []int {
	var covered []int
	for r := range p.train {
		ok := true
		for _, e := range pool {
			for _, v := range e.oof[r*outputs : (r+1)*outputs] {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					ok = false
				}
			}
		}
		if ok {
			covered = append(covered, r)
		}
	}
	return covered
}

// ensembleSpecs returns the ensembles the config enables over a pool of
// n candidates (ranked best first) with outputs values per row: with
// enable_advanced_ensemble, stacking (use_stacking), voting (use_voting)
// and greedy selection (use_selection); without it, as ensemble_method
// says, the simple average of the ensemble_top_k best models and greedy
// selection over every candidate. A worker rebuilds an ensemble unit's
// spec with it from the run's config.
func ensembleSpecs(cfg *config.Config, p *prepared, n, outputs int) ([]ensembleSpec, []string) {
	var warnings []string
	topK := min(max(1, cfg.EnsembleTopK), n)
	var specs []ensembleSpec
	equal := func(n int) func(context.Context, [][]float64, []float64) (*ensemble.Combiner, error) {
		return func(context.Context, [][]float64, []float64) (*ensemble.Combiner, error) {
			return ensemble.VotingCombiner(n, outputs, nil)
		}
	}
	selection := ensembleSpec{name: ensembleSelection, members: seq(n),
		fit: func(_ context.Context, oof [][]float64, y []float64) (*ensemble.Combiner, error) {
			w, err := ensemble.Select(oof, y, p.task, 0)
			if err != nil {
				return nil, err
			}
			return ensemble.VotingCombiner(len(oof), outputs, w)
		}}
	if !cfg.EnableAdvancedEnsemble {
		if cfg.EnsembleMethod != config.EnsembleSelection && topK >= 2 {
			specs = append(specs, ensembleSpec{name: ensembleAverage, members: seq(topK), fit: equal(topK)})
		}
		// Greedy selection weighs every candidate by what it adds on
		// out-of-fold predictions: a weak member the top-k average would
		// take at a third of the vote gets little or nothing.
		if cfg.EnsembleMethod != config.EnsembleAverage {
			specs = append(specs, selection)
		}
		return specs, warnings
	}
	if cfg.UseVoting && topK >= 2 {
		specs = append(specs, ensembleSpec{name: ensembleVoting, members: seq(topK), fit: equal(topK)})
	}
	if cfg.UseStacking {
		if cfg.StackingPassthrough {
			warnings = append(warnings, "stacking_passthrough: members with their own preprocessing share no feature matrix to pass through; stacking uses the members' predictions only")
		}
		// The meta-learner is linear: a few strong members beat many
		// correlated ones.
		m := min(n, max(topK, 4))
		specs = append(specs, ensembleSpec{name: ensembleStacking, members: seq(m),
			fit: func(ctx context.Context, oof [][]float64, y []float64) (*ensemble.Combiner, error) {
				return ensemble.FitStackingCombiner(ctx, oof, y, p.task, len(p.classes), ensemble.StackingOptions{})
			}})
	}
	if cfg.UseSelection {
		specs = append(specs, selection)
	}
	return specs, warnings
}

// ensembleFit is a fitted ensemble: its combiner and its scores.
type ensembleFit struct {
	combiner *ensemble.Combiner
	// params describes the combiner and names the members.
	params      map[string]any
	cv, cvStd   eval.Metrics
	cvFolds     int            // folds the nested CV scored
	undefined   map[string]int // per metric, folds it was undefined on
	test        eval.Metrics
	testPred    []float64 // on the test rows, outputs values per row
	foldScores  []float64 // the primary metric per CV fold, NaN where unscored
	foldLogLoss []float64 // a classifier's log-loss per CV fold, NaN where unscored
}

// fitEnsemble scores one ensemble by nested CV on the out-of-fold
// predictions of pool (the candidates, best first), fits its combiner on
// all covered rows and scores it on the test rows. It needs the members'
// predictions and the run's rows and folds only, so that a worker can
// run it from the run record and the pool's predictions.
func fitEnsemble(ctx context.Context, p *prepared, s ensembleSpec, pool []Entry, covered []int, outputs int) (*ensembleFit, error) {
	members := make([]Entry, len(s.members))
	for i, m := range s.members {
		members[i] = pool[m]
	}
	isCovered := make([]bool, len(p.train))
	for _, r := range covered {
		isCovered[r] = true
	}
	folds, byFold, err := crossValidateCombiner(ctx, p, s, members, isCovered, outputs)
	if err != nil {
		return nil, err
	}
	if len(folds) == 0 {
		return nil, fmt.Errorf("no fold to score on")
	}
	mean, std := eval.Summarize(folds)

	// The saved combiner sees every covered row's out-of-fold predictions.
	oof, y := membersOOF(p, members, covered, outputs)
	c, err := s.fit(ctx, oof, y)
	if err != nil {
		return nil, err
	}
	testPreds := make([][]float64, len(members))
	names := make([]string, len(members))
	for i, e := range members {
		testPreds[i], names[i] = e.testPred, e.Model
	}
	test := make([]float64, len(members[0].testPred))
	if err := c.Combine(test, testPreds); err != nil {
		return nil, err
	}
	metrics, err := taskMetrics(p.task, split.Take(p.y, p.test), test, len(p.classes))
	if err != nil {
		return nil, err
	}
	params := c.Params()
	params["members"] = names
	f := &ensembleFit{combiner: c, params: params, cv: dropNaN(mean), cvStd: dropNaN(std),
		cvFolds: len(folds), undefined: eval.Undefined(folds), test: metrics, testPred: test, foldScores: foldScores(byFold, PrimaryMetric(p.task))}
	if p.task != model.Regression {
		f.foldLogLoss = foldScores(byFold, eval.KeyLogLoss)
	}
	return f, nil
}

// membersOOF gathers, for rows (positions in p.train), each member's
// out-of-fold predictions and the rows' targets: the inputs and labels a
// combiner is fitted or scored on. Out-of-fold predictions keep the
// combiner from learning how well the members fit their own training rows.
func membersOOF(p *prepared, members []Entry, rows []int, outputs int) ([][]float64, []float64) {
	out := make([][]float64, len(members))
	for i, e := range members {
		out[i] = make([]float64, 0, len(rows)*outputs)
		for _, r := range rows {
			out[i] = append(out[i], e.oof[r*outputs:(r+1)*outputs]...)
		}
	}
	y := make([]float64, len(rows))
	for j, r := range rows {
		y[j] = p.y[p.train[r]]
	}
	return out, y
}

// crossValidateCombiner is the nested CV that scores an ensemble: per
// fold, it fits the combiner on the out-of-fold predictions of the fold's
// covered training rows and scores it on its covered test rows. It
// returns the metrics of the folds it could score, and the same by fold
// index, nil where a fold had no covered rows on a side.
func crossValidateCombiner(ctx context.Context, p *prepared, s ensembleSpec, members []Entry, isCovered []bool, outputs int) (folds, byFold []eval.Metrics, err error) {
	byFold = make([]eval.Metrics, len(p.folds))
	for i, f := range p.folds {
		tr := coveredOf(f.Train, isCovered)
		te := coveredOf(f.Test, isCovered)
		if len(tr) == 0 || len(te) == 0 {
			continue
		}
		oofTr, yTr := membersOOF(p, members, tr, outputs)
		c, err := s.fit(ctx, oofTr, yTr)
		if err != nil {
			return nil, nil, err
		}
		oofTe, yTe := membersOOF(p, members, te, outputs)
		pred := make([]float64, len(te)*outputs)
		if err := c.Combine(pred, oofTe); err != nil {
			return nil, nil, err
		}
		m, err := taskMetrics(p.task, yTe, pred, len(p.classes))
		if err != nil {
			return nil, nil, err
		}
		folds, byFold[i] = append(folds, m), m
	}
	return folds, byFold, nil
}

// entry returns the ensemble's leaderboard entry and predictor: members
// are pool's entries the spec names, fitted their predictors. The entry's
// params list every member the combiner weighed; the predictor holds only
// those its combination reads (see ensemble.Combiner.Used), so that
// predicting, serving and explaining it do not run the models greedy
// selection gave no weight.
func (f *ensembleFit) entry(s ensembleSpec, pool []Entry, fitted map[string]*Predictor) (Entry, *Predictor) {
	fitSeconds := 0.0
	first := fitted[pool[s.members[0]].Model]
	used, combiner := f.combiner.Used()
	pr := &Predictor{Target: first.Target, Schema: first.Schema, Combiner: combiner, Name: s.name, RunID: first.RunID, Dataset: first.Dataset}
	for _, m := range s.members {
		fitSeconds += pool[m].FitSeconds
	}
	for _, i := range used {
		e := pool[s.members[i]]
		fm := fitted[e.Model]
		pr.Members = append(pr.Members, Member{Name: e.Model, Chain: fm.Chain, Design: fm.Design, Model: fm.Model})
	}
	e := Entry{Model: s.name, Params: f.params, CV: f.cv, CVStd: f.cvStd, CVFolds: f.cvFolds, CVUndefined: f.undefined, Test: f.test, FitSeconds: fitSeconds, testPred: f.testPred, foldScores: f.foldScores, foldLogLoss: f.foldLogLoss}
	return e, pr
}

// coveredOf returns the rows of rows that are covered.
func coveredOf(rows []int, covered []bool) []int {
	out := make([]int, 0, len(rows))
	for _, r := range rows {
		if covered[r] {
			out = append(out, r)
		}
	}
	return out
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
