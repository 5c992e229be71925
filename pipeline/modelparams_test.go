package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/tune"
)

// TestCheckModelParams checks that model_params a run could not use are
// refused before any data is read, and that the searches the tuner
// understands are accepted.
func TestCheckModelParams(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params map[string]map[string]any
		tuning bool
		folds  int
		task   config.Task
		want   string // "" means accepted
	}{
		{"range", map[string]map[string]any{"logistic": {"c": map[string]any{"low": 0.1, "high": 10.0, "log": true}}}, true, 3, config.TaskAuto, ""},
		{"candidates", map[string]map[string]any{"tree": {"max_depth": []any{3, 5}}}, true, 3, config.TaskAuto, ""},
		{"list parameter", map[string]map[string]any{"ridge": {"alphas": []any{0.1, 1.0, 10.0}}}, true, 3, config.TaskAuto, ""},
		{"fixed outside the space", map[string]map[string]any{"tree": {"max_depth": 1000}}, true, 3, config.TaskAuto, ""},
		{"classification only, task auto", map[string]map[string]any{"tree": {"criterion": "gini"}}, false, 3, config.TaskAuto, ""},
		{"classification only, regression", map[string]map[string]any{"tree": {"criterion": "gini"}}, false, 3, config.TaskRegression, "criterion"},
		{"low above high", map[string]map[string]any{"logistic": {"c": map[string]any{"low": 10.0, "high": 1.0}}}, true, 3, config.TaskAuto, "low > high"},
		{"log range from 0", map[string]map[string]any{"logistic": {"c": map[string]any{"low": 0.0, "high": 1.0}}}, true, 3, config.TaskAuto, "needs low > 0"},
		{"no candidates", map[string]map[string]any{"logistic": {"c": []any{}}}, true, 3, config.TaskAuto, "empty list"},
		{"unknown parameter", map[string]map[string]any{"logistic": {"bogus": 3}}, true, 3, config.TaskAuto, "bogus"},
		// Named once, with the parameters to choose from.
		{"misspelt parameter", map[string]map[string]any{"gbdt": {"max_deph": 3}}, false, 3, config.TaskAuto,
			`model_params: gbdt: model: parameters: unknown field "max_deph" (parameters: n_estimators, learning_rate, max_depth,`},
		{"unknown parameter range", map[string]map[string]any{"tree": {"bogus": map[string]any{"low": 1, "high": 3}}}, true, 3, config.TaskAuto, "bogus"},
		// A classification-only search with task auto: the error of the
		// tasks that search it names the bad candidate, not regression's
		// "cannot unmarshal array".
		{"bad candidate of a classification-only search, task auto", map[string]map[string]any{"tree": {"criterion": []any{"gini", "bogus"}}}, true, 3, config.TaskAuto, "criterion = bogus"},
		{"range end the family refuses", map[string]map[string]any{"tree": {"max_depth": map[string]any{"low": -3, "high": 4}}}, true, 3, config.TaskAuto, "max_depth = -3"},
		// Not searched, so not refused: the run warns (TestIgnoredSearches).
		{"range without tuning", map[string]map[string]any{"logistic": {"c": map[string]any{"low": 1.0, "high": 2.0}}}, false, 3, config.TaskAuto, ""},
		{"range without CV", map[string]map[string]any{"logistic": {"c": map[string]any{"low": 1.0, "high": 2.0}}}, true, 0, config.TaskAuto, ""},
		{"range of an untuned family", map[string]map[string]any{"ols": {"fit_intercept": map[string]any{"low": 0, "high": 1}}}, true, 3, config.TaskAuto, "search space"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.ModelParams, cfg.EnableHyperparameterTuning, cfg.CVFolds, cfg.Task = tc.params, tc.tuning, tc.folds, tc.task
			err := CheckModelParams(cfg, Families())
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("CheckModelParams = %v; want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "model_params: ")):
				t.Errorf("CheckModelParams = %v; want a model_params error mentioning %q", err, tc.want)
			}
		})
	}
}

// TestCheckModelParamsNilRegistry: a nil registry means Families(), as
// Options.Families does, rather than a nil-pointer panic.
func TestCheckModelParamsNilRegistry(t *testing.T) {
	cfg := config.Default()
	cfg.ModelParams = map[string]map[string]any{"gbdt": {"max_deph": 3}}
	if err := CheckModelParams(cfg, nil); err == nil || !strings.Contains(err.Error(), "max_deph") {
		t.Errorf("CheckModelParams(nil registry) = %v; want the misspelt gbdt parameter refused", err)
	}
}

// TestIgnoredSearches: a search the run cannot use (no tuning, no CV
// folds) and an entry of a family the run does not train do not stop the
// run, which used to exit 2 on configs that had trained; the unused
// search is a warning naming it.
func TestIgnoredSearches(t *testing.T) {
	cfg := config.Default()
	cfg.Models = []string{"logistic"}
	cfg.ModelParams = map[string]map[string]any{
		"logistic": {"c": map[string]any{"low": 1.0, "high": 2.0}},
		"gbdt":     {"max_depth": map[string]any{"low": 8, "high": 3}}, // bad, but gbdt is not trained
	}
	if err := CheckModelParams(cfg, Families()); err != nil {
		t.Errorf("CheckModelParams = %v; want nil", err)
	}
	w := ignoredSearches(cfg, []string{"logistic"}, "binary", 3)
	if len(w) != 1 || !strings.Contains(w[0], "logistic.c") {
		t.Errorf("ignoredSearches = %q; want one warning naming logistic.c", w)
	}
	cfg.EnableHyperparameterTuning = true
	if w := ignoredSearches(cfg, []string{"logistic"}, "binary", 3); len(w) != 0 {
		t.Errorf("ignoredSearches under tuning = %q; want none", w)
	}
	if w := ignoredSearches(cfg, []string{"logistic"}, "binary", 0); len(w) != 1 {
		t.Errorf("ignoredSearches without folds = %q; want one", w)
	}
}

// TestTuningSearchesModelParams tunes with a narrowed range and with a
// list-valued family parameter in model_params: every trial completes
// and samples inside the range. Both once failed every trial (the range
// itself, or one element of the list, was handed to the learner).
func TestTuningSearchesModelParams(t *testing.T) {
	for _, tc := range []struct {
		family, target, data string
		params               map[string]any
		param                string
		lo, hi               float64
	}{
		{"logistic", "Status", "credit_data.csv", map[string]any{"c": map[string]any{"low": 0.5, "high": 2.0, "log": true}}, "c", 0.5, 2},
		{"ridge", "Sale_Price", "ames.csv", map[string]any{"alphas": []any{0.1, 1.0, 10.0}}, "alpha", 1e-4, 1e3},
	} {
		t.Run(tc.family, func(t *testing.T) {
			st := &tune.Memory{}
			cfg := config.Default()
			cfg.Data, cfg.Target = filepath.Join("..", "testdata", tc.data), tc.target
			cfg.Models, cfg.CVFolds, cfg.Out = []string{tc.family}, 3, t.TempDir()
			cfg.EnableHyperparameterTuning, cfg.MaxEvals = true, 4
			cfg.ModelParams = map[string]map[string]any{tc.family: tc.params}
			res, err := Train(context.Background(), cfg, Options{Studies: st})
			if err != nil {
				t.Fatal(err)
			}
			info := res.Leaderboard[0].Tuning
			if info == nil || info.Trials != cfg.MaxEvals {
				t.Fatalf("tuning = %+v; want %d complete trials", info, cfg.MaxEvals)
			}
			trials, err := studyTrials(st, info.Study)
			if err != nil {
				t.Fatal(err)
			}
			for _, tr := range trials[1:] { // trial 0: the defaults
				v, ok := tr.Param(tc.param)
				if f, isF := v.(float64); !ok || !isF || f < tc.lo || f > tc.hi {
					t.Errorf("trial %d: %s = %v; want in [%g, %g]", tr.Number, tc.param, v, tc.lo, tc.hi)
				}
			}
		})
	}
}

// TestGridSearchWithFixedParameter fixes a parameter of the default grid
// in model_params: the grid search runs each remaining point once, then
// stops exhausted. It used to repeat points until the trial budget ran
// out, as no trial ever held a point of the fixed parameter.
func TestGridSearchWithFixedParameter(t *testing.T) {
	st := &tune.Memory{}
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"tree"}, 3, t.TempDir()
	cfg.EnableHyperparameterTuning, cfg.UseOptuna, cfg.MaxEvals = true, false, 12
	cfg.ModelParams = map[string]map[string]any{"tree": {"max_depth": 5}}
	res, err := Train(context.Background(), cfg, Options{Studies: st})
	if err != nil {
		t.Fatal(err)
	}
	info := res.Leaderboard[0].Tuning
	// The defaults, then min_samples_leaf 1 and 10: the grid's max_depth
	// column is fixed away.
	if info == nil || info.Stopped != string(tune.StopExhausted) || info.Trials != 3 {
		t.Fatalf("tuning = %+v; want 3 trials, then exhausted", info)
	}
	trials, err := studyTrials(st, info.Study)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, tr := range trials {
		key := fmt.Sprint(tr.ParamValues()["min_samples_leaf"])
		if n, dup := seen[key]; dup {
			t.Errorf("trials %d and %d both take grid point min_samples_leaf=%s", n, tr.Number, key)
		}
		seen[key] = tr.Number
	}
}

// TestUnusedModelParams: the model_params of families models leaves out
// make one warning naming them; trained families, groups that include
// the family and names that are no family (config's error) make none.
func TestUnusedModelParams(t *testing.T) {
	for _, tc := range []struct {
		models []string
		params []string
		want   string
	}{
		{[]string{"ridge"}, []string{"gbdt"}, "model_params: gbdt is not in this run's models (ridge); its parameters are unused"},
		{[]string{"ridge"}, []string{"ridge", "gbdt", "forest"}, "model_params: forest, gbdt are not in this run's models (ridge); their parameters are unused"},
		{[]string{"linear"}, []string{"ridge", "ols"}, ""},
		{[]string{"trees"}, []string{"gbdt", "logistic"}, "model_params: logistic is not in this run's models (trees); its parameters are unused"},
		{nil, []string{"gbdt", "extra_trees"}, "model_params: extra_trees is not in this run's models (default: every family but extra_trees); its parameters are unused"},
		{[]string{"ridge"}, []string{"gdbt"}, ""},
	} {
		cfg := config.Default()
		cfg.Models = tc.models
		cfg.ModelParams = map[string]map[string]any{}
		for _, p := range tc.params {
			cfg.ModelParams[p] = map[string]any{"max_depth": 3}
		}
		got := strings.Join(unusedModelParams(cfg, Families()), "|")
		if got != tc.want {
			t.Errorf("unusedModelParams(models %v, params of %v) = %q; want %q", tc.models, tc.params, got, tc.want)
		}
	}
}
