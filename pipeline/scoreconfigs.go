package pipeline

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
)

// SourceDesign marks an Evaluation of a fixed design of configurations
// (package meta's corpus build) rather than of a training run.
const SourceDesign = "design"

// FamilyConfig is one configuration of a model family: the parameters
// its learner is built from (nil: the learner's own defaults).
type FamilyConfig struct {
	Family string         `json:"family"`
	Params map[string]any `json:"params,omitempty"`
}

// ScoreConfigs cross-validates each configuration on f exactly as a run
// of cfg scores an untuned candidate on the basic features (cfg's target
// coding, holdout split and CV folds), one configuration at a time, and
// returns the scores as an Experiment for a KnowledgeRecorder. A
// configuration of a family that does not support the task is skipped;
// one that fails is left out and reported in the returned warnings. Its
// Table is f's training part (TrainingPart) and Dataset f's content hash.
func ScoreConfigs(ctx context.Context, f *frame.Frame, cfg *config.Config, configs []FamilyConfig, reg *model.Registry) (*Experiment, []string, error) {
	if reg == nil {
		reg = Families()
	}
	p, err := prepare(f, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, nil, err
	}
	if len(p.folds) == 0 {
		return nil, nil, fmt.Errorf("score configurations: no CV folds (cv_folds %d)", cfg.CVFolds)
	}
	p.dataset, p.families = f.Hash(), reg
	metric := PrimaryMetric(p.task)
	e := &Experiment{Dataset: p.dataset, Name: cfg.Data, Target: cfg.Target, Metric: metric, HigherIsBetter: eval.Higher(metric),
		Split: p.splitID(), Table: p.trainingPart()}
	var warnings []string
	workers := model.FitOptions{Workers: cfg.Workers}.NumWorkers()
	for _, c := range configs {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		fam, err := reg.Lookup(c.Family)
		if err != nil {
			return nil, nil, err
		}
		if !fam.Supports(p.task) {
			continue
		}
		t0 := time.Now()
		l, err := trialLearner(fam, p.task, cfg.Seed, c.Params)
		if err != nil {
			return nil, nil, fmt.Errorf("%s %v: %w", c.Family, c.Params, err)
		}
		spec := designSpec(fam, len(p.train))
		cv, err := crossValidate(ctx, l, spec, p, workers, nil)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			warnings = append(warnings, fmt.Sprintf("%s %v: %v", c.Family, c.Params, err))
			continue
		}
		e.Evaluations = append(e.Evaluations, Evaluation{Family: c.Family, Params: c.Params, Source: SourceDesign,
			Score: cv.mean[metric], FoldScores: foldScores(cv.folds, metric), Seconds: round(time.Since(t0).Seconds(), 4)})
	}
	return e, warnings, nil
}
