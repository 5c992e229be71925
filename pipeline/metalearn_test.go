package pipeline

import (
	"context"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/tune"
)

// TestMetaStarts checks the warm start a study gets from the knowledge
// base: each configuration once, at most a sixth of the trial budget,
// and parameters a configuration leaves unset at the learner's own
// default rather than left to the sampler.
func TestMetaStarts(t *testing.T) {
	partial := map[string]any{"n_estimators": 2000, "early_stopping_rounds": 50, "validation_fraction": 0.1, "learning_rate": 0.1}
	other := map[string]any{"n_estimators": 300, "learning_rate": 0.2, "max_depth": 3}
	m := metaAfter{base: BasicVariantStarts{}, meta: &metaStarts{maxEvals: 18, starts: map[string][]MetaConfig{"gbdt": {
		{Params: partial, From: "a"}, {Params: partial, From: "b"}, {Params: other, From: "c"}, {Params: map[string]any{"learning_rate": 0.3}, From: "d"},
	}}}}
	q := StartQuery{Family: "gbdt", Task: model.Regression, Sampler: "tpe", Space: tune.SpaceFor("gbdt", model.Regression)}
	got, err := m.Starts(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[1].From != "meta:c (distance 0.000)" {
		t.Fatalf("starts from %v; want a, c, d (b duplicates a; 18 trials allow 3)", got)
	}
	want := map[string]float64{"stopping": 1, "learning_rate": 0.1, "max_depth": 6, "min_child_weight": 1, "subsample": 1,
		"colsample_bytree": 1, "lambda": 1, "alpha": 1e-3}
	for k, v := range want {
		if got[0].Params[k] != v {
			t.Errorf("start a: %s = %v; want %v (params %v)", k, got[0].Params[k], v, got[0].Params)
		}
	}
	if s, err := m.Starts(context.Background(), StartQuery{Family: "gbdt", Sampler: "grid", Space: q.Space}); err != nil || len(s) != 0 {
		t.Errorf("grid study got starts %v, %v; want none", s, err)
	}
	if len(m.meta.tried) != 3 || m.meta.tried[2].From != "d" || m.meta.tried[2].Trial != 2 {
		t.Errorf("kept starts %+v; want a, c, d as trials 0, 1, 2", m.meta.tried)
	}
}

// TestMetaStartsStudyBudget checks that the sixth is of the study's own
// trial budget, which caps max_evals per tuned parameter: research's
// max_evals 100 gives logistic a 10-trial study, which takes one start,
// not the 16 a sixth of 100 would allow.
func TestMetaStartsStudyBudget(t *testing.T) {
	var configs []MetaConfig
	for i, c := range []float64{0.01, 0.1, 1, 10, 100} {
		configs = append(configs, MetaConfig{Params: map[string]any{"c": c}, From: string(rune('a' + i))})
	}
	tests := []struct {
		maxEvals, trials, want int
	}{
		{100, 10, 1}, // capped study: a sixth of its 10 trials
		{100, 30, 5}, // a sixth of 30
		{12, 30, 2},  // max_evals below the cap is the budget
		{100, 0, 5},  // study budget unknown: max_evals, at most the 5 configurations
		{0, 18, 3},   // no max_evals recorded: the study's budget
		{100, 3, 1},  // at least one
	}
	for _, tt := range tests {
		m := &metaStarts{maxEvals: tt.maxEvals, starts: map[string][]MetaConfig{"logistic": configs}}
		q := StartQuery{Family: "logistic", Task: model.Binary, Sampler: "tpe", Space: tune.SpaceFor("logistic", model.Binary), Trials: tt.trials}
		if got := m.next(q, 0); len(got) != tt.want {
			t.Errorf("max_evals %d, study of %d trials: %d starts; want %d", tt.maxEvals, tt.trials, len(got), tt.want)
		}
	}
}

// TestZeroShotConfig checks how a knowledge-base configuration replaces
// a family's static defaults: the hyperparameters it leaves unset go
// back to the learner's own defaults, the fitting procedure (gbdt's
// refit on all rows) stays, and the user's model_params win key by key.
func TestZeroShotConfig(t *testing.T) {
	cfg := config.Default()
	cfg.ModelParams = map[string]map[string]any{"gbdt": {"max_depth": 4}}
	kb := map[string]MetaConfig{
		"gbdt":   {Params: map[string]any{"learning_rate": 0.024, "max_depth": 3, "early_stopping_rounds": 50, "validation_fraction": 0.1, "n_estimators": 2000}},
		"forest": {Params: map[string]any{"max_features": 0.5}},
	}
	got := zeroShotConfig(cfg, kb)
	tests := []struct {
		family, key string
		want        any
	}{
		{"gbdt", "learning_rate", 0.024},
		{"gbdt", "max_depth", 4},
		{"gbdt", "refit", true},
		{"gbdt", "early_stopping_rounds", 50},
		{"forest", "max_features", 0.5},
	}
	for _, tt := range tests {
		if v := got.ModelParams[tt.family][tt.key]; v != tt.want {
			t.Errorf("%s %s = %v; want %v (params %v)", tt.family, tt.key, v, tt.want, got.ModelParams[tt.family])
		}
	}
	if len(cfg.ModelParams) != 1 || len(cfg.ModelParams["gbdt"]) != 1 {
		t.Errorf("zeroShotConfig changed the config it was given: model_params %v", cfg.ModelParams)
	}
	if v, ok := got.ModelParams["forest"]["refit"]; ok {
		t.Errorf("forest refit = %v; want no such key", v)
	}
}
