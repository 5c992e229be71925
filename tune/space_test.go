package tune

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/forest"
	"github.com/tabforge/tabforge/model/gbdt"
	"github.com/tabforge/tabforge/model/linear"
	"github.com/tabforge/tabforge/model/tree"
)

func registry() *model.Registry {
	var r model.Registry
	for _, set := range [][]model.Family{linear.Families(), tree.Families(), forest.Families(), gbdt.Families()} {
		for _, f := range set {
			r.Register(f)
		}
	}
	return &r
}

// TestSpacesBuildLearners samples every family's space many times and
// checks that the family accepts each sample.
func TestSpacesBuildLearners(t *testing.T) {
	reg := registry()
	ctx := context.Background()
	for _, name := range reg.Names() {
		fam, _ := reg.Lookup(name)
		for _, task := range fam.Tasks {
			space := SpaceFor(name, task)
			if len(space.Params) == 0 && name != "ols" {
				t.Errorf("SpaceFor(%q, %s) is empty", name, task)
			}
			s, _ := NewStudy(ctx, "space", Config{Sampler: RandomSampler{}, Seed: 1})
			_, err := s.Optimize(ctx, func(_ context.Context, tr *Trial) (float64, error) {
				params := space.Sample(tr)
				raw, err := json.Marshal(params)
				if err != nil {
					return 0, err
				}
				if _, err := fam.New(task, tr.Seed(), raw); err != nil {
					t.Errorf("%s/%s: New(%s): %v", name, task, raw, err)
				}
				return 0, tr.Err()
			}, Budget{MaxTrials: 30})
			if err != nil {
				t.Fatalf("%s/%s: %v", name, task, err)
			}
		}
	}
}

func TestGBDTSpaceConditional(t *testing.T) {
	ctx := context.Background()
	space := SpaceFor("gbdt", model.Regression)
	seen := map[bool]bool{}
	s, _ := NewStudy(ctx, "gbdt", Config{Sampler: RandomSampler{}, Seed: 2})
	s.Optimize(ctx, func(_ context.Context, tr *Trial) (float64, error) {
		p := space.Sample(tr)
		_, early := p["early_stopping_rounds"]
		seen[early] = true
		if _, hidden := p["stopping"]; hidden {
			t.Error("hidden parameter stopping emitted")
		}
		n := p["n_estimators"].(int)
		if early && n != 2000 || !early && (n < 100 || n > 800) {
			t.Errorf("early stopping %v with n_estimators %d", early, n)
		}
		lr := p["learning_rate"].(float64)
		if lr < 0.01 || lr > 0.3 {
			t.Errorf("learning_rate %v outside [0.01, 0.3]", lr)
		}
		return 0, nil
	}, Budget{MaxTrials: 40})
	if !seen[true] || !seen[false] {
		t.Errorf("branches seen %v; want both", seen)
	}
}

func TestSpaceOverride(t *testing.T) {
	base := SpaceFor("gbdt", model.Regression)
	s, err := base.Override(map[string]any{
		"stopping":      "rounds",                                // fix the branch
		"n_estimators":  map[string]any{"low": 200, "high": 300}, // narrow
		"max_depth":     6,                                       // fix
		"alpha":         nil,                                     // family default
		"max_bin":       128,                                     // add a fixed parameter
		"learning_rate": []any{0.05, 0.1},                        // candidate list
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, _ := NewStudy(ctx, "override", Config{Sampler: RandomSampler{}, Seed: 3})
	st.Optimize(ctx, func(_ context.Context, tr *Trial) (float64, error) {
		p := s.Sample(tr)
		if _, ok := p["early_stopping_rounds"]; ok {
			t.Error("early stopping branch taken after fixing stopping=rounds")
		}
		if n := p["n_estimators"].(int); n < 200 || n > 300 {
			t.Errorf("n_estimators %d outside [200, 300]", n)
		}
		if p["max_depth"] != 6 || p["max_bin"] != 128 {
			t.Errorf("fixed values: max_depth %v, max_bin %v", p["max_depth"], p["max_bin"])
		}
		if _, ok := p["alpha"]; ok {
			t.Error("removed alpha still sampled")
		}
		if lr := p["learning_rate"].(float64); lr != 0.05 && lr != 0.1 {
			t.Errorf("learning_rate %v not in the list", lr)
		}
		return 0, nil
	}, Budget{MaxTrials: 20})
	if len(base.Params) != len(SpaceFor("gbdt", model.Regression).Params) || base.Params[1].Dist.Low != 100 {
		t.Error("Override modified its receiver")
	}
	for _, bad := range []map[string]any{
		{"learning_rate": map[string]any{"low": 0.5, "high": 0.1}},
		{"learning_rate": map[string]any{"low": -1.0}},
		{"max_depth": map[string]any{"low": 2.5}},
		{"nope": map[string]any{"low": 1}},
		{"lambda": map[string]any{"mid": 1}},
		{"max_depth": []any{}},
		{"max_depth": struct{}{}},
	} {
		if _, err := base.Override(bad); err == nil {
			t.Errorf("Override(%v) succeeded; want an error", bad)
		}
	}
}

// TestSpaceDecode checks that Decode gives back what Sample gave each
// trial of a study, for every family's space.
func TestSpaceDecode(t *testing.T) {
	ctx := context.Background()
	for _, fam := range []string{"gbdt", "forest", "ridge", "logistic", "tree"} {
		for _, task := range []model.Task{model.Regression, model.Binary} {
			space := SpaceFor(fam, task)
			sampled := map[int]string{}
			s, err := NewStudy(ctx, "decode", Config{Seed: 5})
			if err != nil {
				t.Fatal(err)
			}
			obj := func(_ context.Context, tr *Trial) (float64, error) {
				sampled[tr.Number()] = fmt.Sprint(space.Sample(tr))
				return float64(tr.Number()), nil
			}
			if _, err := s.Optimize(ctx, obj, Budget{MaxTrials: 15}); err != nil {
				t.Fatal(err)
			}
			trials, _ := s.Trials(ctx)
			for _, ft := range trials {
				got, ok := space.Decode(ft)
				if !ok || fmt.Sprint(got) != sampled[ft.Number] {
					t.Errorf("%s %s trial %d: Decode = %v, %v; Sample gave %s", fam, task, ft.Number, got, ok, sampled[ft.Number])
				}
			}
		}
	}
}

// TestSpaceOverrideListParameter: a list for a parameter the space lacks
// is a fixed, list-valued family parameter (ridge's alphas), not
// candidates; for one it has, it is candidates. Searches says which.
func TestSpaceOverrideListParameter(t *testing.T) {
	base := SpaceFor("ridge", model.Regression)
	alphas := []any{0.1, 1.0, 10.0}
	s, err := base.Override(map[string]any{"alphas": alphas, "alpha": []any{0.5, 2.0}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := NewStudy(ctx, "list", Config{Sampler: RandomSampler{}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Optimize(ctx, func(_ context.Context, tr *Trial) (float64, error) {
		p := s.Sample(tr)
		if got := fmt.Sprint(p["alphas"]); got != fmt.Sprint(alphas) {
			t.Errorf("alphas = %s; want the list %v", got, alphas)
		}
		if a := p["alpha"]; a != 0.5 && a != 2.0 {
			t.Errorf("alpha = %v; want a candidate of [0.5 2]", a)
		}
		return 0, nil
	}, Budget{MaxTrials: 5})
	if err != nil || res.Complete != 5 {
		t.Fatalf("Optimize = %+v, %v; want 5 complete trials", res, err)
	}
	for _, tc := range []struct {
		name string
		v    any
		want bool
	}{
		{"alphas", alphas, false},
		{"alpha", []any{0.5}, true},
		{"alpha", map[string]any{"low": 1.0}, true},
		{"alpha", 1.0, false},
		{"alpha", nil, false},
	} {
		if got := base.Searches(tc.name, tc.v); got != tc.want {
			t.Errorf("Searches(%q, %v) = %v; want %v", tc.name, tc.v, got, tc.want)
		}
	}
}

// TestSpaceGrid: Grid keeps the values a space samples and drops
// parameters it fixes, lacks or cannot reach.
func TestSpaceGrid(t *testing.T) {
	grid := map[string][]any{"learning_rate": {0.03, 0.1, 0.5}, "max_depth": {4, 6}, "stopping": {"rounds"}, "n_estimators": {300}, "nope": {1}}
	for _, tc := range []struct {
		name     string
		override map[string]any
		want     string
	}{
		{"default", nil, "map[learning_rate:[0.03 0.1] max_depth:[4 6] n_estimators:[300] stopping:[rounds]]"},
		{"fixed", map[string]any{"max_depth": 5}, "map[learning_rate:[0.03 0.1] n_estimators:[300] stopping:[rounds]]"},
		{"narrowed", map[string]any{"learning_rate": map[string]any{"low": 0.05}}, "map[learning_rate:[0.1] max_depth:[4 6] n_estimators:[300] stopping:[rounds]]"},
		{"unreachable branch", map[string]any{"stopping": "early"}, "map[learning_rate:[0.03 0.1] max_depth:[4 6]]"},
		// Candidates: the grid's values among them, else all of them (they
		// were left out, and drawn at random by the grid search).
		{"candidates", map[string]any{"learning_rate": []any{0.03, 0.2}}, "map[learning_rate:[0.03] max_depth:[4 6] n_estimators:[300] stopping:[rounds]]"},
		{"other candidates", map[string]any{"learning_rate": []any{0.01, 0.2}}, "map[learning_rate:[0.01 0.2] max_depth:[4 6] n_estimators:[300] stopping:[rounds]]"},
	} {
		s, err := SpaceFor("gbdt", model.Regression).Override(tc.override)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(s.Grid(grid)); got != tc.want {
			t.Errorf("%s: Grid = %s; want %s", tc.name, got, tc.want)
		}
	}
}
