package pipeline

import (
	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/tune"
)

// familyDefaults are the parameters a family trains with untuned, beneath
// the config's model_params (which win key by key). The learners' own
// zero values follow their peers (gbdt: XGBoost's learning rate 0.3 and
// 100 rounds); these are what measurement across the 97 datasets of the
// meta corpus chose instead, with `tabforge bench corpus` (gbdt alone,
// 3,000-row samples, holdout test metric):
//
//   - gbdt: learning rate 0.05, up to 2,000 rounds, early stopping after 50
//     rounds without improvement on a held-out 10% of the training rows
//     (the latest rows on temporal data), then a refit on all rows for
//     the rounds found. Against XGBoost's defaults it won 71, tied 7 and
//     lost 19 of 97 datasets (regression 30/7 wins/losses, binary 26/7,
//     multiclass 15/5); without the refit 61/29; at learning rate 0.1
//     with the refit 67/20. The refit's rounds pool the CV folds' finds
//     (see model.PoolStopRates and runCandidate): against its own holdout
//     alone, regression 12/7, binary 9/5, multiclass 14/4.
//   - forest, on more than forestSampleRows training rows: each tree's
//     bootstrap sample is forestSampleRows rows. A fully grown tree has
//     about as many nodes as distinct rows, so this bounds each tree's
//     time and memory; on 43,200 Friedman-1 rows the forest fitted 12×
//     faster in 40% less memory, test R² 0.9340 instead of 0.9369.
func familyDefaults(family string, rows int) map[string]any {
	switch family {
	case "gbdt":
		return map[string]any{"learning_rate": 0.05, "n_estimators": 2000, "early_stopping_rounds": 50,
			"validation_fraction": 0.1, "refit": true}
	case "forest":
		if rows > forestSampleRows {
			return map[string]any{"max_samples": forestSampleRows}
		}
	}
	return nil
}

// procedureParams are the static defaults of family that say how it fits
// rather than what: a knowledge-base configuration trains with them too
// (see zeroShotConfig). gbdt's refit: meta build scores its early-stopped
// configurations as tuning trials run, without one, but the configuration
// a run trains with should, like the static defaults, learn from all the
// training rows, the latest ones on temporal data included. Measured in
// production on the meta corpus (bench corpus, 3,000-row samples), zero-shot
// with the refit against without won/tied/lost 8/23/6 regression datasets
// (mean R² +0.006), 0/32/5 binary (mean AUC −0.002) and 7/15/1 multiclass
// (mean log-loss −0.003).
func procedureParams(family string) map[string]any {
	if family == "gbdt" {
		return map[string]any{"refit": true}
	}
	return nil
}

// forestSampleRows bounds a default forest tree's bootstrap sample.
const forestSampleRows = 20_000

// familyParams is the untuned configuration of family under cfg for a
// task with a training part of rows rows: its defaults with the config's
// model_params over them. Entries that are searches (a range, candidate
// values) steer tuning only: the untuned configuration, which tuning
// scores as its trial 0, keeps the default of such a parameter.
func familyParams(cfg *config.Config, family string, task model.Task, rows int) map[string]any {
	out := familyDefaults(family, rows)
	if out == nil && cfg.ModelParams[family] == nil {
		return nil
	}
	if out == nil {
		out = map[string]any{}
	}
	space := tune.SpaceFor(family, task)
	for name, v := range cfg.ModelParams[family] {
		if !space.Searches(name, v) {
			out[name] = v
		}
	}
	return out
}
