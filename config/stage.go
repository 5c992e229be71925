package config

import (
	"fmt"
	"reflect"
	"strings"
)

// StageKey is a key that switches on a pipeline stage, which a build of
// tabforge may not implement yet.
type StageKey struct {
	// Key is the config key.
	Key string
	// Stage names what Key switches on, e.g. "temporal features".
	Stage string
	// Gate is a key that must also be on for Key to take effect
	// (enable_advanced_features for the feature stages); "" if none.
	Gate string
	// On reports whether Key, with its Gate, switches the stage on in c.
	On func(c *Config) bool
}

// StageKeys returns the keys that switch on stages, in pipeline order. A
// build passes the subset it implements to Unavailable.
func StageKeys() []StageKey {
	gates := func(c *Config) bool { return c.ForceProductionQuality }
	return []StageKey{
		{Key: "as_of", Stage: "as-of temporal holdout", On: func(c *Config) bool { return c.AsOf != "" }},
		{Key: "enable_temporal_features", Stage: "temporal features", Gate: "enable_advanced_features",
			On: func(c *Config) bool { return c.EnableAdvancedFeatures && c.EnableTemporalFeatures }},
		{Key: "enable_market_features", Stage: "market features", Gate: "enable_advanced_features",
			On: func(c *Config) bool { return c.EnableAdvancedFeatures && c.EnableMarketFeatures }},
		{Key: "enable_interaction_features", Stage: "interaction features", Gate: "enable_advanced_features",
			On: func(c *Config) bool { return c.EnableAdvancedFeatures && c.EnableInteractionFeatures }},
		{Key: "segment_by", Stage: "per-segment training", On: func(c *Config) bool { return c.SegmentBy != "" }},
		{Key: "enable_hyperparameter_tuning", Stage: "hyperparameter tuning",
			On: func(c *Config) bool { return c.EnableHyperparameterTuning }},
		{Key: "enable_advanced_ensemble", Stage: "advanced ensembles",
			On: func(c *Config) bool { return c.EnableAdvancedEnsemble }},
		{Key: "force_production_quality", Stage: "quality gates", On: gates},
		{Key: "min_segment_business_accuracy", Stage: "per-segment accuracy floors", Gate: "force_production_quality",
			On: func(c *Config) bool { return gates(c) && c.MinSegmentBusinessAccuracy > 0 }},
		{Key: "max_latency", Stage: "latency gate", Gate: "force_production_quality",
			On: func(c *Config) bool { return gates(c) && c.MaxLatency > 0 }},
		{Key: "bias_variance_rounds", Stage: "bias-variance analysis",
			On: func(c *Config) bool { return c.BiasVarianceRounds > 0 }},
	}
}

// Capabilities says which stages a build implements.
type Capabilities struct {
	// Version names the build in messages, e.g. "tabforge 0.1"; "" means
	// "this build".
	Version string
	// Available reports whether the stage of a StageKey's Key is
	// implemented; nil means none is.
	Available func(key string) bool
}

func (caps Capabilities) available(key string) bool {
	return caps.Available != nil && caps.Available(key)
}

// implemented lists the basic path and the stages caps implements.
func (caps Capabilities) implemented() []string {
	out := []string{"the basic path"}
	for _, sk := range StageKeys() {
		if caps.available(sk.Key) {
			out = append(out, sk.Stage)
		}
	}
	return out
}

// UnavailableError reports a stage the user switched on explicitly (in a
// file, the environment or a flag) that this build does not implement.
type UnavailableError struct {
	// Key is the key that switched the stage on: the stage key itself, or
	// its gate when only the gate was set explicitly.
	Key string
	// Via is the stage key that Key switched on when Key is its gate;
	// "" otherwise.
	Via string
	// Stage names the stage, as in StageKey.Stage.
	Stage string
	// Origin is where Key's value came from.
	Origin Origin
	// Version names the build, as in Capabilities.Version.
	Version string
	// Implemented lists what the build does implement: the basic path and
	// the names of its available stages.
	Implemented []string
}

// Error returns e.g. `enable_hyperparameter_tuning: not available yet
// (tabforge 0.1 implements: the basic path); set by flag:--set`.
func (e *UnavailableError) Error() string {
	var b strings.Builder
	b.WriteString(e.Key + ": ")
	if e.Via != "" {
		fmt.Fprintf(&b, "switches on %s (%s), which is ", e.Stage, e.Via)
	}
	fmt.Fprintf(&b, "not available yet (%s implements: %s)", e.Version, strings.Join(e.Implemented, ", "))
	if e.Origin.Kind != FromDefault {
		b.WriteString("; set by " + e.Origin.String())
	}
	if e.Via != "" {
		fmt.Fprintf(&b, "; set %s=false to go on without it", e.Via)
	}
	return b.String()
}

// Unavailable checks c's stage keys against caps. A stage that c switches
// on but caps does not implement gives:
//   - an *UnavailableError if the file, environment or flags switched it
//     on (it would be off with the default and profile alone): the run
//     must not start, because the user asked for something it cannot do;
//   - a warning if the default or the profile switched it on: the run goes
//     on without the stage, on the basic path.
//
// prov is the Provenance Load returned; nil treats c as built from
// Default by hand, so every stage on in c but not in Default is explicit.
func (c *Config) Unavailable(caps Capabilities, prov *Provenance) (errs []error, warnings []string) {
	version := caps.Version
	if version == "" {
		version = "this build"
	}
	implemented := caps.implemented()
	base := prov.Base()
	for _, sk := range StageKeys() {
		if !sk.On(c) || caps.available(sk.Key) {
			continue
		}
		if sk.On(base) {
			how := "on by " + prov.Origin(sk.Key).String()
			warnings = append(warnings, fmt.Sprintf("%s: not available yet (%s implements: %s); %s, continuing without %s",
				sk.Key, version, strings.Join(implemented, ", "), how, sk.Stage))
			continue
		}
		e := &UnavailableError{Key: sk.Key, Stage: sk.Stage, Version: version, Implemented: implemented, Origin: prov.Origin(sk.Key)}
		if sk.Gate != "" && !changed(c, base, sk.Key) {
			// Only the gate moved: blame it, and name what it switched on.
			e.Key, e.Via, e.Origin = sk.Gate, sk.Key, prov.Origin(sk.Gate)
		}
		errs = append(errs, e)
	}
	return errs, warnings
}

// dependents lists keys that only take effect when a condition holds.
func dependents() []struct {
	keys  []string
	needs string
	on    func(c *Config) bool
} {
	return []struct {
		keys  []string
		needs string
		on    func(c *Config) bool
	}{
		{[]string{"enable_temporal_features", "enable_market_features", "enable_interaction_features"},
			"enable_advanced_features is false", func(c *Config) bool { return c.EnableAdvancedFeatures }},
		{[]string{"temporal_lags", "rolling_windows"}, "temporal features are off",
			func(c *Config) bool { return c.EnableAdvancedFeatures && c.EnableTemporalFeatures }},
		{[]string{"target_encoding_smoothing"}, "market features are off",
			func(c *Config) bool { return c.EnableAdvancedFeatures && c.EnableMarketFeatures }},
		{[]string{"interaction_top_k", "max_interactions"}, "interaction features are off",
			func(c *Config) bool { return c.EnableAdvancedFeatures && c.EnableInteractionFeatures }},
		{[]string{"min_segment_rows"}, "segment_by is empty", func(c *Config) bool { return c.SegmentBy != "" }},
		{[]string{"use_optuna", "max_evals", "time_budget", "pruner", "tune_startup_trials", "tune_batch"},
			"enable_hyperparameter_tuning is false", func(c *Config) bool { return c.EnableHyperparameterTuning }},
		{[]string{"use_stacking", "use_voting", "use_selection", "stacking_passthrough"},
			"enable_advanced_ensemble is false", func(c *Config) bool { return c.EnableAdvancedEnsemble }},
		{[]string{"min_r2_threshold", "min_business_accuracy", "min_segment_business_accuracy", "max_latency"},
			"force_production_quality is false", func(c *Config) bool { return c.ForceProductionQuality }},
		{[]string{"test_fraction"}, "test_rows or as_of chooses the test rows",
			func(c *Config) bool { return c.TestRows == "" && c.AsOf == "" }},
	}
}

// Ineffective returns a warning for each key that the file, environment
// or flags changed but that has no effect because what it refines is off,
// e.g. `use_stacking: has no effect while enable_advanced_ensemble is
// false (set by flag:--set)`.
func (c *Config) Ineffective(prov *Provenance) []string {
	base := prov.Base()
	var warnings []string
	for _, d := range dependents() {
		if d.on(c) {
			continue
		}
		for _, key := range d.keys {
			if o := prov.Origin(key); o.Explicit() && changed(c, base, key) {
				warnings = append(warnings, fmt.Sprintf("%s: has no effect while %s (set by %s)", key, d.needs, o))
			}
		}
	}
	return warnings
}

// changed reports whether key's value differs between a and b.
func changed(a, b *Config, key string) bool {
	va, _ := a.Get(key)
	vb, _ := b.Get(key)
	return !reflect.DeepEqual(va, vb)
}
