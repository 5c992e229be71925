package pipeline

import (
	"context"
	"math"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/model"
)

func TestZeroShotAlternatives(t *testing.T) {
	a := MetaConfig{Params: map[string]any{"max_depth": 3.0}}
	b := MetaConfig{Params: map[string]any{"max_depth": 5.0}}
	c := MetaConfig{Params: map[string]any{"max_depth": 5.0, "lambda": 2.0}}
	d := MetaConfig{Params: map[string]any{"max_depth": 8.0}}
	tests := []struct {
		name   string
		family string
		task   model.Task
		starts []MetaConfig
		want   []MetaConfig
	}{
		{"the default repeated and skipped", "gbdt", model.Binary, []MetaConfig{a, b, a, c, d}, []MetaConfig{b, c}},
		{"a repeat skipped", "gbdt", model.Multiclass, []MetaConfig{a, b, b, d}, []MetaConfig{b, d}},
		{"fewer than asked", "gbdt", model.Binary, []MetaConfig{a, b}, []MetaConfig{b}},
		{"other families check one", "forest", model.Binary, []MetaConfig{a, b, c}, nil},
		{"regression checks one", "gbdt", model.Regression, []MetaConfig{a, b, c}, nil},
		{"none", "gbdt", model.Binary, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := zeroShotAlternatives(tt.family, tt.task, a, tt.starts); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("zeroShotAlternatives = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBetterScore(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		metric string
		v, w   float64
		want   bool
	}{
		{"auc", 0.8, 0.7, true},
		{"auc", 0.7, 0.7, false}, // a tie keeps the earlier
		{"logloss", 0.3, 0.4, true},
		{"logloss", 0.4, 0.3, false},
		{"r2", nan, 0.1, false},
		{"r2", -5, nan, true},
		{"r2", nan, nan, false},
	}
	for _, tt := range tests {
		if got := betterScore(tt.metric, tt.v, tt.w); got != tt.want {
			t.Errorf("betterScore(%s, %v, %v) = %v, want %v", tt.metric, tt.v, tt.w, got, tt.want)
		}
	}
}

// TestAlternativesPasses checks that zero-shot alternatives count as CV
// passes in a family's budget, and that the copy withinBudget falls back
// to over its budget checks none while the run's own keeps them.
func TestAlternativesPasses(t *testing.T) {
	cfg := config.Default()
	cfg.TargetTransform = config.TargetNone
	alt := MetaConfig{Params: map[string]any{"max_depth": 5.0}}
	p := &prepared{task: model.Binary, static: cfg,
		metaAlternatives: map[string][]MetaConfig{"gbdt": {alt, alt}, "forest": {alt}}}
	gbdt, forest := model.Family{Name: "gbdt"}, model.Family{Name: "forest"}
	if got := cvPasses(cfg, p, gbdt); got != 4 {
		t.Errorf("cvPasses with 2 alternatives = %d, want 4 (the first, 2 alternatives, the static defaults)", got)
	}
	q := p.withoutAlternatives("gbdt")
	if got := cvPasses(cfg, q, gbdt); got != 2 {
		t.Errorf("cvPasses without alternatives = %d, want 2", got)
	}
	if len(p.metaAlternatives["gbdt"]) != 2 || len(q.metaAlternatives["forest"]) != 1 {
		t.Errorf("withoutAlternatives changed the run's alternatives (%v) or another family's (%v)", p.metaAlternatives, q.metaAlternatives)
	}
	if got := cvPasses(cfg, q, forest); got != 3 {
		t.Errorf("forest's cvPasses = %d, want 3", got)
	}
}

// TestZeroShotAlternativeRefused checks that a knowledge-base alternative
// the learner refuses (an imported knowledge base's) is skipped, and the
// other configurations still decide.
func TestZeroShotAlternativeRefused(t *testing.T) {
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"gbdt"}, 3, t.TempDir()
	cfg.ModelParams = map[string]map[string]any{"gbdt": {"n_estimators": 20}}
	p, o := preparedRun(t, cfg)
	p.static = cfg
	p.metaAlternatives = map[string][]MetaConfig{"gbdt": {
		{Params: map[string]any{"max_depth": "deep"}},
		{Params: map[string]any{"max_depth": 2.0}},
	}}
	zs := zeroShotConfig(cfg, map[string]MetaConfig{"gbdt": {Params: map[string]any{"max_depth": 4.0}}})
	fam, params, learner, err := configuredLearner(zs, o, p, "gbdt")
	if err != nil {
		t.Fatal(err)
	}
	got, err := chooseZeroShot(context.Background(), zs, o, p, fam, "gbdt", params, learner, designSpec(fam, len(p.train)), 1)
	if err != nil {
		t.Fatalf("chooseZeroShot with a refused alternative: %v", err)
	}
	if got == nil || got.label == zeroShotAlternative+"1" {
		t.Fatalf("chose %+v; want one of the configurations the learner accepts", got)
	}
	want := []string{zeroShotKB, zeroShotAlternative + "2", zeroShotStatic}
	if !reflect.DeepEqual(got.checked, want) {
		t.Errorf("checked %q; want %q (the refused alternative left out)", got.checked, want)
	}
}

// TestZeroShotOutcome checks what the report says of each configuration
// the knowledge base proposed: an alternative no candidate
// cross-validated (skipped to keep the time budget, or refused) is not
// reported as cross-validated.
func TestZeroShotOutcome(t *testing.T) {
	alt1, alt2 := zeroShotAlternative+"1", zeroShotAlternative+"2"
	// gbdt checked the first and the static defaults only: its
	// alternatives were skipped to keep the time budget.
	lb := []Entry{
		{Model: "gbdt", ZeroShot: zeroShotStatic, ZeroShotChecked: []string{zeroShotKB, zeroShotStatic}},
		{Model: "gbdt+interactions", ZeroShot: alt2, ZeroShotChecked: []string{zeroShotKB, alt1, alt2, zeroShotStatic}},
		{Model: "forest"},
	}
	tests := []struct {
		lb          []Entry
		label, want string
	}{
		{lb[:1], zeroShotKB, "cross-validated, not kept"},
		{lb[:1], alt1, "not cross-validated (skipped to keep the time budget, or refused by the learner)"},
		{lb, alt1, "cross-validated, not kept"},
		{lb, alt2, "kept by gbdt+interactions, leaderboard place 2 of 3"},
		{[]Entry{{Model: "gbdt"}}, zeroShotKB, "kept by gbdt, leaderboard place 1 of 1"},
		{[]Entry{{Model: "gbdt"}}, alt1, ""},
	}
	for _, tt := range tests {
		if got := zeroShotOutcome(tt.lb, "gbdt", tt.label); got != tt.want {
			t.Errorf("zeroShotOutcome(%d entries, %q) = %q; want %q", len(tt.lb), tt.label, got, tt.want)
		}
	}
}
