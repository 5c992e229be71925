package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Profile names.
const (
	ProfileDefault     = "default"
	ProfileDevelopment = "development"
	ProfileProduction  = "production"
	ProfileResearch    = "research"
)

// Profiles returns the names of the built-in profiles, sorted.
func Profiles() []string {
	return slices.Sorted(maps.Keys(profileTable()))
}

// ProfileSettings returns the keys a profile sets and their values, on top
// of Default. The map is new on every call; changing it changes nothing
// else. An unknown name is an error listing the profiles.
func ProfileSettings(name string) (map[string]any, error) {
	p, ok := profileTable()[name]
	if !ok {
		return nil, fmt.Errorf("unknown profile %q (profiles: %s)", name, strings.Join(Profiles(), ", "))
	}
	return p, nil
}

// profileTable holds the profiles: the three usage examples of the seed's
// AdvancedTrainingConfig (../shared/seeds/000_188803095fabf99d.txt), each
// key exactly as the example passes it, and "default", which sets nothing.
func profileTable() map[string]map[string]any {
	return map[string]map[string]any{
		ProfileDefault: {},
		// Development mode (fast iteration): the basic path, no gates.
		ProfileDevelopment: {
			"enable_advanced_features":     false,
			"enable_hyperparameter_tuning": false,
			"enable_advanced_ensemble":     false,
			"force_production_quality":     false,
		},
		// Production mode (conservative): temporal and market features,
		// default hyperparameters, the simple ensemble, quality gates.
		ProfileProduction: {
			"enable_advanced_features":     true,
			"enable_temporal_features":     true,
			"enable_market_features":       true,
			"enable_interaction_features":  false,
			"enable_hyperparameter_tuning": false,
			"enable_advanced_ensemble":     false,
			"force_production_quality":     true,
			// Not in the seed's example: start from similar past datasets.
			"meta_learning": true,
			// Not in the seed's example: large data stays fast.
			"family_budget": "20s",
		},
		// Research mode (full advanced): everything on, 100 TPE trials.
		ProfileResearch: {
			"enable_advanced_features":     true,
			"enable_temporal_features":     true,
			"enable_market_features":       true,
			"enable_interaction_features":  true,
			"enable_hyperparameter_tuning": true,
			"use_optuna":                   true,
			"max_evals":                    100,
			"enable_advanced_ensemble":     true,
			"use_stacking":                 true,
			"use_voting":                   true,
			// Not in the seed's example: research runs also plot curves.
			"report_curves": true,
			"meta_learning": true,
		},
	}
}
