package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/tune"
)

// TuningInfo describes a candidate's hyperparameter search.
type TuningInfo struct {
	Sampler  string  `json:"sampler"` // tpe or grid
	Trials   int     `json:"trials"`  // trials that completed
	Seconds  float64 `json:"seconds"`
	Stopped  string  `json:"stopped"`            // why the search ended
	Fallback string  `json:"fallback,omitempty"` // why TPE gave way to the grid
}

type tuned struct {
	learner   model.Learner
	cv, cvStd eval.Metrics
	info      *TuningInfo
}

// tuneCandidate searches the family's parameter space with the CV metric
// as objective: TPE when use_optuna is on, else — or when TPE fails — a
// small default grid. Parameters the user fixed in model_params stay
// fixed. The budget is max_evals trials and an equal share of time_budget
// per candidate.
func tuneCandidate(ctx context.Context, cfg *config.Config, o Options, p *prepared, fam model.Family, name string, spec features.DesignSpec, workers int) (*tuned, error) {
	space, err := tune.SpaceFor(name, p.task).Override(cfg.ModelParams[name])
	if err != nil {
		return nil, fmt.Errorf("model_params %s: %w", name, err)
	}
	budget := tune.Budget{MaxTrials: cfg.MaxEvals, Workers: 1}
	if cfg.TimeBudget > 0 {
		n, _, _ := candidates(cfg, o.Families, p.task)
		budget.MaxDuration = time.Duration(cfg.TimeBudget) / time.Duration(max(1, len(n)))
	}
	if cfg.UseOptuna {
		t, err := search(ctx, cfg, p, fam, name, spec, workers, space, tune.TPESampler{}, budget)
		if err == nil {
			t.info.Sampler = "tpe"
			return t, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		o.Logger.Warn("TPE search failed; falling back to grid search", "model", name, "err", err)
		t, gerr := search(ctx, cfg, p, fam, name, spec, workers, space, tune.GridSampler{Grid: defaultGrid(name)}, budget)
		if gerr != nil {
			return nil, gerr
		}
		t.info.Sampler, t.info.Fallback = "grid", err.Error()
		return t, nil
	}
	t, err := search(ctx, cfg, p, fam, name, spec, workers, space, tune.GridSampler{Grid: defaultGrid(name)}, budget)
	if err != nil {
		return nil, err
	}
	t.info.Sampler = "grid"
	return t, nil
}

// search runs one study and returns the best trial's learner and CV scores.
func search(ctx context.Context, cfg *config.Config, p *prepared, fam model.Family, name string, spec features.DesignSpec,
	workers int, space tune.Space, sampler tune.Sampler, budget tune.Budget) (*tuned, error) {
	metric := primaryMetric(p.task)
	dir := tune.Minimize
	if eval.Higher(metric) {
		dir = tune.Maximize
	}
	study, err := tune.NewStudy(ctx, name, tune.Config{Direction: dir, Sampler: sampler, Seed: cfg.Seed})
	if err != nil {
		return nil, err
	}
	type outcome struct {
		learner   model.Learner
		cv, cvStd eval.Metrics
	}
	var mu sync.Mutex
	byTrial := map[int]outcome{}
	start := time.Now()
	res, err := study.Optimize(ctx, func(ctx context.Context, t *tune.Trial) (float64, error) {
		params, err := json.Marshal(space.Sample(t))
		if err != nil {
			return 0, err
		}
		l, err := fam.New(p.task, cfg.Seed, params)
		if err != nil {
			return 0, err
		}
		mean, std, err := crossValidate(ctx, l, spec, p, workers)
		if err != nil {
			return 0, err
		}
		v, ok := mean[metric]
		if !ok || math.IsNaN(v) {
			return 0, fmt.Errorf("trial %d: no CV %s", t.Number(), metric)
		}
		mu.Lock()
		byTrial[t.Number()] = outcome{l, mean, std}
		mu.Unlock()
		return v, nil
	}, budget)
	if err != nil {
		return nil, fmt.Errorf("tune %s: %w", name, err)
	}
	best, ok, err := study.Best(ctx)
	if err != nil {
		return nil, err
	}
	out, found := byTrial[best.Number]
	if !ok || !found {
		return nil, fmt.Errorf("tune %s: no trial completed within the budget", name)
	}
	return &tuned{learner: out.learner, cv: out.cv, cvStd: out.cvStd, info: &TuningInfo{
		Trials: res.Complete, Seconds: round(time.Since(start).Seconds(), 3), Stopped: string(res.Stopped)}}, nil
}

// defaultGrid is the small grid searched when TPE is off or fails.
func defaultGrid(family string) map[string][]any {
	switch family {
	case "gbdt":
		return map[string][]any{"learning_rate": {0.03, 0.1}, "max_depth": {4, 6}, "stopping": {"rounds"}, "n_estimators": {300}}
	case "forest", "extra_trees":
		return map[string][]any{"min_samples_leaf": {1, 5}, "depth": {"unlimited"}, "n_estimators": {200}}
	case "tree":
		return map[string][]any{"max_depth": {4, 8, 16}, "min_samples_leaf": {1, 10}}
	case "ridge":
		return map[string][]any{"alpha": {0.1, 1.0, 10.0, 100.0}}
	case "logistic":
		return map[string][]any{"c": {0.01, 0.1, 1.0, 10.0}}
	}
	return nil
}
