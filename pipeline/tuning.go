package pipeline

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/tune"
)

// TuningInfo describes a candidate's hyperparameter search.
type TuningInfo struct {
	Sampler string `json:"sampler"` // tpe or grid
	// Batch is the number of trials proposed and evaluated together
	// (tune_batch, or the executor's parallelism); 1 is sequential.
	Batch int `json:"batch,omitempty"`
	// Study is the stored study's name: a rerun of the same data and
	// config resumes it.
	Study  string `json:"study"`
	Trials int    `json:"trials"` // trials of this run that completed
	// Pruned counts trials this run stopped early (pruner), Failed those
	// that failed.
	Pruned int `json:"pruned"`
	Failed int `json:"failed,omitempty"`
	// Resumed counts finished trials found from an earlier, interrupted
	// run of the same study.
	Resumed int `json:"resumed,omitempty"`
	// WarmStart names the study and trial whose parameters this study
	// tried first: the advanced feature variant starts from the best
	// trial of the basic variant of its family.
	WarmStart string  `json:"warm_start,omitempty"`
	Pruner    string  `json:"pruner"`
	Seconds   float64 `json:"seconds"`
	// Budget is the study's share of time_budget in seconds (0: none);
	// LongestTrial the longest trial's seconds. A study ends within
	// Budget plus one trial.
	Budget       float64 `json:"budget_seconds,omitempty"`
	LongestTrial float64 `json:"longest_trial_seconds"`
	Stopped      string  `json:"stopped"` // why the search ended
	// Fallback says why TPE gave way to the grid, or tuning to the
	// family defaults.
	Fallback string `json:"fallback,omitempty"`
}

type tuned struct {
	learner model.Learner
	cv      *cvResult
	info    *TuningInfo
}

// studyName names a candidate's study after everything its trials depend
// on: the dataset, the config (which holds the split, features, seed and
// budget) and the family, so that rerunning an interrupted run resumes
// the study and any change starts a new one.
func studyName(p *prepared, cfg *config.Config, family, sampler string) string {
	ds := p.dataset
	if len(ds) > 16 {
		ds = ds[:16]
	}
	return fmt.Sprintf("train/%s/%s/%s%s/%s", ds, cfg.Hash()[:16], family, p.variant, sampler)
}

// pruner returns the config's pruner for a study whose trials report one
// step per CV fold.
func pruner(cfg *config.Config, folds int) tune.Pruner {
	switch cfg.Pruner {
	case config.PrunerMedian:
		// Two folds at least before judging: one fold is too noisy.
		return tune.MedianPruner{StartupTrials: 5, WarmupSteps: 2}
	case config.PrunerHyperband:
		return tune.Hyperband{MinResource: 1, MaxResource: folds, ReductionFactor: 3}
	}
	return nil
}

// tuneCandidate searches the family's parameter space with the CV metric
// as objective: TPE when use_optuna is on, else — or when TPE fails — a
// small default grid. Parameters the user fixed in model_params stay
// fixed. The budget is max_evals trials, capped at trialsPerParam per
// sampled parameter (a one-parameter space is learnt in a few trials; the
// rest would be spent for nothing), and a share of what is left of
// time_budget: the families still to tune split it in proportion to
// timeWeight, so a cheap family that stops early leaves its time to the
// next, and the wide gbdt space gets the largest part.
func tuneCandidate(ctx context.Context, cfg *config.Config, o Options, p *prepared, fam model.Family, name string, spec features.DesignSpec, workers int) (*tuned, error) {
	space, err := tune.SpaceFor(name, p.task).Override(cfg.ModelParams[name])
	if err != nil {
		return nil, fmt.Errorf("model_params %s: %w", name, err)
	}
	budget := tune.Budget{MaxTrials: min(cfg.MaxEvals, trialsPerParam*max(1, sampled(space))), Workers: 1}
	if budget.MaxTrials < cfg.MaxEvals {
		// Said, so that max_evals=500 ending after 10 trials with
		// stopped=max_trials does not look like a setting ignored.
		o.Logger.Info("trial budget capped per tuned parameter", "model", name, "max_evals", cfg.MaxEvals,
			"trials", budget.MaxTrials, "per_parameter", trialsPerParam)
	}
	if cfg.TimeBudget > 0 {
		// time_budget counts the time spent in studies, as the peers'
		// tune_s does: the final fit and test scoring of each candidate
		// between studies are not tuning.
		remaining := max(0, time.Duration(cfg.TimeBudget)-p.memo.spent())
		// The families of every candidate of the run in order, one per
		// feature variant, and this candidate's position among them.
		names, at := p.pending, 0
		if names == nil {
			names, _, _ = candidates(cfg, o.Families, p.task)
			at = max(0, slices.Index(names, name))
		} else {
			at = p.pendingAt
		}
		all, rest := 0, 0
		for i, n := range names {
			s, err := tune.SpaceFor(n, p.task).Override(cfg.ModelParams[n])
			if err != nil {
				continue
			}
			all += timeWeight(n, s)
			if i >= at {
				rest += timeWeight(n, s)
			}
		}
		w := float64(max(1, timeWeight(name, space)))
		// A fixed share of the whole budget, so that a family that
		// overran (its defaults scored after a study that completed no
		// trial) does not starve the next ones; more if earlier families
		// left time over.
		fixed := time.Duration(float64(cfg.TimeBudget) * w / float64(max(1, all)))
		left := time.Duration(float64(remaining) * w / float64(max(1, rest)))
		budget.MaxDuration = max(fixed, left)
	}
	defaults, err := trialLearner(fam, p.task, cfg.Seed, familyParams(cfg, name, p.task, len(p.train)))
	if err != nil {
		return nil, err
	}
	grid := func() (*tuned, error) {
		return search(ctx, cfg, o, p, fam, name, spec, workers, space, defaults, tune.GridSampler{Grid: space.Grid(defaultGrid(name))}, "grid", budget)
	}
	if !cfg.UseOptuna {
		t, err := grid()
		if err != nil {
			return nil, err
		}
		t.info.Sampler = "grid"
		return t, nil
	}
	tpe := &budgetedTPE{TPESampler: tune.TPESampler{StartupTrials: cfg.TuneStartupTrials}}
	t, err := search(ctx, cfg, o, p, fam, name, spec, workers, space, defaults, tpe, "tpe", budget)
	if err == nil {
		t.info.Sampler = "tpe"
		return t, nil
	}
	if ctx.Err() != nil || isNoTrial(err) || errors.Is(err, ErrNoWorkers) {
		// The budget is spent, every trial was pruned, or nothing can
		// run units: a grid search would overrun the budget, or end the
		// same way.
		return nil, err
	}
	o.Logger.Warn("TPE search failed; falling back to grid search", "model", name, "err", err)
	t, gerr := grid()
	if gerr != nil {
		return nil, gerr
	}
	t.info.Sampler, t.info.Fallback = "grid", err.Error()
	return t, nil
}

// needCV returns warnings for the stages cfg asks for that a run without
// CV folds skips: tuning trials and advanced ensembles are scored by CV,
// and were skipped without a word.
func needCV(cfg *config.Config, folds int) []string {
	if folds > 0 {
		return nil
	}
	var out []string
	if cfg.EnableHyperparameterTuning {
		out = append(out, "enable_hyperparameter_tuning: tuning trials are scored by cross-validation, and this run has no CV folds; families train untuned")
	}
	if cfg.EnableAdvancedEnsemble {
		out = append(out, "enable_advanced_ensemble: ensembles are fitted on out-of-fold predictions, and this run has no CV folds; none is built")
	}
	return out
}

// budgetedTPE is TPE whose number of random startup trials is fitted to a
// time budget once the study's first trial has run: a third of the trials
// the budget is expected to hold at that trial's pace, at least
// minStartupTrials and at most the configured number. With Optuna's 10
// startup trials, a family's share of a short budget (often under 10
// trials) would be random search throughout and never use TPE's model.
// Without a time budget it is plain TPE.
type budgetedTPE struct {
	tune.TPESampler
	startup atomic.Int64 // fitted startup trials; 0 until fitted
	warm    atomic.Int64 // informed starts of a warm-started study; 0 if none
}

// warmStart ends the random startup with the study's n informed
// (meta-learning) starts: they count as startup trials, the way Optuna
// counts enqueued ones, and TPE's model samples from the next trial on,
// every other trial, until warmExplore random trials have been
// interleaved (SMAC interleaves random configurations with its model's
// the same way). The starts are chosen for the dataset, so random trials
// right after them mostly delay TPE; no random trials at all let TPE
// commit to the starts' region and explore too little of the rest. With
// 30 trials (5 starts) on 20 corpus tables (meta eval --sample 20 --seed
// 1), warm reached cold's final best on 11 of 20 tables after a median
// of 7 trials, with normalised best@10 / best@30 of 0.80 / 0.94 against
// cold's 0.72 / 0.94; with the default 10 startup trials after the
// starts: 11 of 20, 14 trials, 0.74 / 0.96; with none: 10 of 20, 9
// trials, 0.78 / 0.88.
func (b *budgetedTPE) warmStart(n int) {
	b.warm.Store(int64(n))
}

// warmExplore is the number of random trials a warm-started study
// interleaves with TPE's after its starts.
const warmExplore = 5

// minStartupTrials is the fewest random trials before TPE's model.
const minStartupTrials = 3

func (b *budgetedTPE) current() tune.TPESampler {
	s := b.TPESampler
	if n := b.startup.Load(); n > 0 {
		s.StartupTrials = int(n)
	}
	if w := int(b.warm.Load()); w > 0 {
		s.StartupTrials = min(w, cmp.Or(s.StartupTrials, 10))
	}
	return s
}

// sampler is the sampler of the next trial given the history: current,
// or, in a warm-started study, a random trial on every other trial after
// the starts until warmExplore of them (see warmStart). Constant-liar
// placeholders are not trials run, so they do not count.
func (b *budgetedTPE) sampler(h *tune.History) tune.TPESampler {
	s := b.current()
	w := int(b.warm.Load())
	if w == 0 {
		return s
	}
	done := -h.Lies
	for _, t := range h.Trials {
		if t.State == tune.Complete && !math.IsNaN(t.Value) || t.State == tune.Pruned { // as TPE counts them
			done++
		}
	}
	if i := done - w; i >= 0 && i%2 == 1 && i/2 < warmExplore {
		s.StartupTrials = math.MaxInt // sample from the prior
	}
	return s
}

// fit sets the startup from the budget and the first trial's duration
// and returns it; fitted is false without a budget.
func (b *budgetedTPE) fit(budget, first time.Duration) (n int, fitted bool) {
	if budget <= 0 || first <= 0 {
		return 0, false
	}
	most := b.TPESampler.StartupTrials
	if most == 0 {
		most = 10 // TPESampler's default
	}
	expected := int(budget / first)
	n = min(most, max(minStartupTrials, expected/3))
	b.startup.Store(int64(n))
	return n, true
}

// InferRelativeSpace implements tune.Sampler.
func (b *budgetedTPE) InferRelativeSpace(h *tune.History) map[string]tune.Distribution {
	return b.sampler(h).InferRelativeSpace(h)
}

// SampleRelative implements tune.Sampler.
func (b *budgetedTPE) SampleRelative(h *tune.History, rng *rand.Rand, space map[string]tune.Distribution) (map[string]float64, error) {
	return b.sampler(h).SampleRelative(h, rng, space)
}

// SampleIndependent implements tune.Sampler.
func (b *budgetedTPE) SampleIndependent(h *tune.History, rng *rand.Rand, name string, d tune.Distribution) (float64, error) {
	return b.sampler(h).SampleIndependent(h, rng, name, d)
}

// studySeed is the seed of a study of the given feature variant. The
// basic variant uses the run's seed; the advanced one a stream of its own,
// so that its random startup trials explore points the basic study has
// not already tried (with one seed both studies drew the same points, and
// the warm start then ran one of them twice).
func studySeed(seed uint64, variant string) uint64 {
	if variant == "" {
		return seed
	}
	h := fnv.New64a()
	h.Write([]byte(variant))
	return seed ^ h.Sum64()
}

// noTrialError reports a search that ended without a completed trial:
// its time budget ran out first, or every trial it ran (or an earlier
// run of its study stored) was pruned or failed. Stopped, Pruned and
// Failed say which, so the fallback to the family defaults names the
// real reason rather than always blaming the time budget.
type noTrialError struct {
	Stopped        tune.StopReason
	Pruned, Failed int // over all of the study's trials, earlier runs too
}

func (e *noTrialError) Error() string {
	switch {
	case e.Stopped == tune.StopDeadline:
		return "no trial completed within the time budget"
	case e.Pruned+e.Failed == 0:
		return fmt.Sprintf("no trial ran (the search stopped: %s)", e.Stopped)
	case e.Failed == 0:
		return fmt.Sprintf("no trial completed: all %d were pruned", e.Pruned)
	case e.Pruned == 0:
		return fmt.Sprintf("no trial completed: all %d failed", e.Failed)
	}
	return fmt.Sprintf("no trial completed: %d were pruned and %d failed", e.Pruned, e.Failed)
}

// isNoTrial reports whether err is, or wraps, a noTrialError.
func isNoTrial(err error) bool {
	var nt *noTrialError
	return errors.As(err, &nt)
}

// timeWeight is a family's claim on the time budget: its number of
// sampled parameters, doubled for gradient boosting, the family that most
// often wins on tabular data (Grinsztajn, Oyallon and Varoquaux, "Why do
// tree-based models still outperform deep learning on typical tabular
// data?", NeurIPS 2022; McElfresh et al., "When do neural nets outperform
// boosted trees on tabular data?", NeurIPS 2023) and whose trials cost
// the most.
func timeWeight(family string, s tune.Space) int {
	w := sampled(s)
	if family == "gbdt" {
		w *= 2
	}
	return w
}

// trialsPerParam caps a study's trials per sampled parameter.
const trialsPerParam = 10

// sampled counts the parameters of s that are sampled and emitted.
func sampled(s tune.Space) int {
	n := 0
	for _, p := range s.Params {
		if p.Fixed == nil && !p.Hidden {
			n++
		}
	}
	return n
}

// trialLearner builds fam's learner for task from params (nil or empty:
// its defaults).
func trialLearner(fam model.Family, task model.Task, seed uint64, params map[string]any) (model.Learner, error) {
	if len(params) == 0 {
		return fam.New(task, seed, nil)
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	return fam.New(task, seed, raw)
}

// meanOf is the mean of metric over folds.
func meanOf(folds []eval.Metrics, metric string) float64 {
	s := 0.0
	for _, m := range folds {
		s += m[metric]
	}
	return s / float64(len(folds))
}

// defaultGrid is the small grid searched when TPE is off or fails.
func defaultGrid(family string) map[string][]any {
	switch family {
	case "gbdt":
		return map[string][]any{"learning_rate": {0.03, 0.1}, "max_depth": {4, 6}, "stopping": {"rounds"}, "n_estimators": {300}}
	case "forest", "extra_trees":
		return map[string][]any{"min_samples_leaf": {1, 5}, "depth": {"unlimited"}}
	case "tree":
		return map[string][]any{"max_depth": {4, 8, 16}, "min_samples_leaf": {1, 10}}
	case "ridge":
		return map[string][]any{"alpha": {0.1, 1.0, 10.0, 100.0}}
	case "logistic":
		return map[string][]any{"c": {0.01, 0.1, 1.0, 10.0}}
	}
	return nil
}

// paramsGroup logs a trial's parameters as key=value pairs in name order
// (params.max_depth=6 params.learning_rate=0.1 in text logs, an object in
// JSON logs) instead of a Go map's rendering.
func paramsGroup(params map[string]any) slog.Attr {
	attrs := make([]any, 0, len(params))
	for _, k := range slices.Sorted(maps.Keys(params)) {
		attrs = append(attrs, slog.Any(k, params[k]))
	}
	return slog.Group("params", attrs...)
}
