package continuous

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"time"

	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
)

// challenge trains the challenger with cfg (the champion's configuration
// on the new data) on all rows but holdout, warm-started from the
// champion, registers it and returns its run and the model to judge: the
// fit on the other rows (with refit_all the registered model is refitted
// on all rows after it). It fills d's training fields.
func (run *retrainRun) challenge(ctx context.Context) (*pipeline.Result, *pipeline.Predictor, error) {
	var err error
	if run.cfg.TestRows, err = writeRows(filepath.Join(run.env.Dir, "holdout", run.hash[:16]+".rows"), run.holdout); err != nil {
		return nil, nil, err
	}
	run.cfg.Out = filepath.Join(run.env.Dir, "runs")
	run.cfg.RefitAll = !run.pol.KeepHoldout
	if run.pol.Configure != nil {
		run.pol.Configure(run.cfg)
	}
	starts := championStarts{version: run.champ.Version, params: championParams(ctx, run.env, run.champ, run.champP)}
	o := pipeline.Options{Runs: run.env.Runs, Studies: run.env.Studies, Meta: run.env.Meta, Knowledge: run.env.Knowledge,
		Starts:    pipeline.StartSources{starts, pipeline.BasicVariantStarts{}},
		Registrar: pipeline.StoreRegistrar{Registry: run.env.Registry, Artifacts: run.env.Artifacts, CodeVersion: run.env.CodeVersion}}
	start := time.Now()
	res, err := pipeline.Train(ctx, run.cfg, o)
	run.d.TrainSeconds = time.Since(start).Seconds()
	var gate *pipeline.GateError
	if err != nil && !errors.As(err, &gate) {
		return nil, nil, err
	}
	if res.Registered == nil {
		return nil, nil, errors.New("the challenger was not registered")
	}
	run.d.ChallengerVersion, run.d.RefitRows = res.Registered.Model.Version, res.RefitRows
	for _, e := range res.Leaderboard {
		if e.Tuning != nil && e.Tuning.WarmStart != "" {
			if run.d.WarmStart == nil {
				run.d.WarmStart = map[string]string{}
			}
			run.d.WarmStart[e.Model] = e.Tuning.WarmStart
		}
	}
	judged := res.ModelPath
	if res.HoldoutModelPath != "" {
		judged = res.HoldoutModelPath
	}
	p, err := pipeline.LoadPredictor(judged, pipeline.Families())
	if err != nil {
		return nil, nil, err
	}
	return res, p, nil
}

// championStarts is the StartSource of a challenger's tuning: each
// family's study tries first the configuration the family had in the
// champion's run (its tuned parameters when the champion was tuned).
// The data moved on, but not far: the champion's optimum is a better
// first guess than the defaults, and the sampler learns from it as from
// any trial.
type championStarts struct {
	version string
	// params are the champion run's fitted parameters by leaderboard
	// name (family and feature variant).
	params map[string]map[string]any
}

// Starts implements pipeline.StartSource.
func (c championStarts) Starts(_ context.Context, q pipeline.StartQuery) ([]pipeline.Start, error) {
	p, ok := c.params[q.Family+q.Variant]
	if q.Sampler != "tpe" || !ok {
		return nil, nil
	}
	vals, dists, ok := q.Space.Encode(p)
	if !ok {
		return nil, nil
	}
	return []pipeline.Start{{Params: vals, Distributions: dists, From: "champion " + c.version}}, nil
}

var _ pipeline.StartSource = championStarts{}

// championParams are the fitted parameters of each model of the
// champion's run: its leaderboard in env.Runs when the run is there,
// else those of the models in the champion's artifact (its best family,
// or an ensemble's members).
func championParams(ctx context.Context, env Env, champ *registry.Model, p *pipeline.Predictor) map[string]map[string]any {
	out := map[string]map[string]any{}
	if env.Runs != nil {
		if run, err := env.Runs.GetRun(ctx, champ.RunID); err == nil {
			var res pipeline.Result
			if json.Unmarshal(run.Result, &res) == nil {
				for _, e := range res.Leaderboard {
					if e.Error == "" && len(e.Params) > 0 { // an ensemble's name is no study's
						out[e.Model] = e.Params
					}
				}
			}
		}
	}
	if _, ok := out[champ.Family]; !ok && p.Model != nil {
		out[champ.Family] = p.Model.Params()
	}
	for _, m := range p.Members {
		if _, ok := out[m.Name]; !ok && m.Model != nil {
			out[m.Name] = m.Model.Params()
		}
	}
	return out
}
