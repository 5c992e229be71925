// Package pipeline is tabforge's orchestrator: it takes a config and a
// dataset through load → version → split → preprocessing (fitted on
// training rows only) → candidate models → cross-validation → holdout
// evaluation → leaderboard → saved predictor → run record. It owns the
// saved Predictor format (schema, preprocessing, model, target coding)
// and the default registry of model families.
//
// The library never prints: progress is reported through events and
// diagnostics through the given *slog.Logger.
package pipeline

import (
	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/forest"
	"github.com/tabforge/tabforge/model/gbdt"
	"github.com/tabforge/tabforge/model/linear"
	"github.com/tabforge/tabforge/model/tree"
)

// Families returns a registry of every model family tabforge ships, each
// accepting target_transform for regression.
func Families() *model.Registry {
	var r model.Registry
	for _, set := range [][]model.Family{linear.Families(), tree.Families(), forest.Families(), gbdt.Families()} {
		for _, f := range set {
			r.Register(model.WithTargetTransform(f))
		}
	}
	return &r
}

// ModelGroups returns the group names --models accepts besides family
// names.
func ModelGroups() []string { return []string{"linear", "trees"} }

// expandModels turns the names users type (`--models linear,tree`) into
// family names: "linear" and "trees" name groups, anything else a family.
// Empty means every family.
func expandModels(names []string) []string {
	if len(names) == 0 {
		return []string{"ols", "ridge", "logistic", "tree", "forest", "gbdt"}
	}
	var out []string
	for _, n := range names {
		switch n {
		case "linear":
			out = append(out, "ols", "ridge", "logistic")
		case "trees":
			out = append(out, "tree", "forest", "gbdt")
		default:
			out = append(out, n)
		}
	}
	return out
}

// Available reports whether this build implements the stage a config key
// switches on (config.StageKeys). The rest report false, so a run that
// asks for them explicitly is refused and one where only a profile turned
// them on warns and takes the basic path.
func Available(key string) bool {
	switch key {
	case "as_of", "force_production_quality", "enable_advanced_features",
		"enable_temporal_features", "enable_market_features", "enable_interaction_features",
		"enable_hyperparameter_tuning", "segment_by", "enable_advanced_ensemble",
		"min_segment_business_accuracy", "max_latency":
		return true
	case "bias_variance_rounds": // computed by Analyze, for the report
		return true
	}
	return false
}

// Capabilities describes this build for config.Config.Unavailable.
func Capabilities() config.Capabilities {
	return config.Capabilities{Version: "0.1", Available: Available}
}
