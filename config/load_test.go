package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// writeFile writes a YAML config file into a temporary directory.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tabforge.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustLoad(t *testing.T, src Sources) (*Config, *Provenance) {
	t.Helper()
	c, p, err := Load(src)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c, p
}

func TestLoadPrecedence(t *testing.T) {
	// Every layer sets max_evals; the research profile sets it to 100.
	file := "max_evals: 200\nseed: 5\n"
	tests := []struct {
		name       string
		src        Sources
		want       int
		wantOrigin string
	}{
		{"default", Sources{}, 50, "default"},
		{"profile", Sources{Profile: "research"}, 100, "profile:research"},
		{"file over profile", Sources{Profile: "research", File: "$F"}, 200, "file:$F:1"},
		{"env over file", Sources{Profile: "research", File: "$F", Env: []string{"TABFORGE_MAX_EVALS=300"}}, 300, "env:TABFORGE_MAX_EVALS"},
		{"set over env", Sources{Profile: "research", File: "$F", Env: []string{"TABFORGE_MAX_EVALS=300"}, Set: []string{"max_evals=400"}}, 400, "flag:--set"},
		{"flag over env", Sources{File: "$F", Env: []string{"TABFORGE_MAX_EVALS=300"}, Flags: map[string]string{"max_evals": "500"}}, 500, "flag"},
		{"same value in flag and set", Sources{Flags: map[string]string{"max_evals": "7"}, Set: []string{"max_evals=7"}}, 7, "flag:--set"},
		{"later set wins", Sources{Set: []string{"max_evals=8", "max_evals=9"}}, 9, "flag:--set"},
		{"env profile", Sources{Env: []string{"TABFORGE_PROFILE=research"}}, 100, "profile:research"},
		{"profile field over env profile", Sources{Profile: "development", Env: []string{"TABFORGE_PROFILE=research"}}, 50, "default"},
		{"env config file", Sources{Env: []string{"TABFORGE_CONFIG=$F"}}, 200, "file:$F:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, file)
			src := tt.src
			if src.File == "$F" {
				src.File = path
			}
			src.Env = nil
			for _, kv := range tt.src.Env {
				src.Env = append(src.Env, strings.Replace(kv, "=$F", "="+path, 1))
			}
			c, p := mustLoad(t, src)
			if c.MaxEvals != tt.want {
				t.Errorf("max_evals = %d; want %d", c.MaxEvals, tt.want)
			}
			want := strings.ReplaceAll(tt.wantOrigin, "$F", path)
			if got := p.Origin("max_evals").String(); got != want {
				t.Errorf("origin = %q; want %q", got, want)
			}
		})
	}
}

func TestLoadAllTypes(t *testing.T) {
	path := writeFile(t, `
data: testdata/ames.csv
target: Sale_Price
task: binary
drop: [Order, "a,b"]
schema: {Year_Sold: categorical, Mo_Sold: categorical}
models:
  - linear
  - gbdt
model_params:
  gbdt: {max_depth: 6, eta: 0.05, objective: huber}
seed: 18446744073709551615
time_budget: 90s
min_r2_threshold: -0.5
temporal_lags: 1, 12
cv: kfold
`)
	c, _ := mustLoad(t, Sources{File: path, Env: []string{
		"TABFORGE_WORKERS=2",
		"TABFORGE_ENABLE_ADVANCED_FEATURES=1",
		"PATH=/usr/bin", // not ours: ignored
		"TABFORGE_TEST_REDIS=127.0.0.1:6390",
	}, Set: []string{"rolling_windows=[4, 8]", "positive_class=yes", "max_latency=25ms"}})
	want := Default()
	want.Data, want.Target, want.Task = "testdata/ames.csv", "Sale_Price", TaskBinary
	want.Drop = []string{"Order", "a,b"}
	want.Schema = map[string]ColumnKind{"Year_Sold": KindCategorical, "Mo_Sold": KindCategorical}
	want.Models = []string{"linear", "gbdt"}
	want.ModelParams = map[string]map[string]any{"gbdt": {"max_depth": 6, "eta": 0.05, "objective": "huber"}}
	want.Seed = 18446744073709551615 // max uint64
	want.TimeBudget = Duration(90 * time.Second)
	want.MinR2Threshold = -0.5
	want.TemporalLags = []int{1, 12}
	want.CV = CVKFold
	want.Workers = 2
	want.EnableAdvancedFeatures = true
	want.RollingWindows = []int{4, 8}
	want.PositiveClass = "yes"
	want.MaxLatency = Duration(25 * time.Millisecond)
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Load =\n%+v\nwant\n%+v", c, want)
	}
}

func TestProfiles(t *testing.T) {
	// The 13 flags of the seed's AdvancedTrainingConfig, in its order:
	// advanced, temporal, market, interaction, tuning, optuna, max_evals,
	// advanced ensemble, stacking, voting, production quality, min R²,
	// min business accuracy.
	type flags struct {
		adv, temporal, market, interaction, tuning, optuna bool
		maxEvals                                           int
		ensemble, stacking, voting, quality                bool
		minR2, minBusiness                                 float64
	}
	tests := []struct {
		profile string
		want    flags
	}{
		{"", flags{false, true, true, false, false, true, 50, false, true, true, true, 0.75, 70}},
		{"default", flags{false, true, true, false, false, true, 50, false, true, true, true, 0.75, 70}},
		{"development", flags{false, true, true, false, false, true, 50, false, true, true, false, 0.75, 70}},
		{"production", flags{true, true, true, false, false, true, 50, false, true, true, true, 0.75, 70}},
		{"research", flags{true, true, true, true, true, true, 100, true, true, true, true, 0.75, 70}},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			c, p := mustLoad(t, Sources{Profile: tt.profile})
			got := flags{c.EnableAdvancedFeatures, c.EnableTemporalFeatures, c.EnableMarketFeatures,
				c.EnableInteractionFeatures, c.EnableHyperparameterTuning, c.UseOptuna, c.MaxEvals,
				c.EnableAdvancedEnsemble, c.UseStacking, c.UseVoting, c.ForceProductionQuality,
				c.MinR2Threshold, c.MinBusinessAccuracy}
			if got != tt.want {
				t.Errorf("profile %q:\n got %+v\nwant %+v", tt.profile, got, tt.want)
			}
			settings, err := ProfileSettings(p.Profile)
			if err != nil {
				t.Fatal(err)
			}
			for key := range settings {
				if o := p.Origin(key); o.Kind != FromProfile || o.Name != p.Profile {
					t.Errorf("origin of %s = %v; want profile:%s", key, o, p.Profile)
				}
			}
		})
	}
	if got, want := Profiles(), []string{"default", "development", "production", "research"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Profiles() = %v; want %v", got, want)
	}
}

func TestProfileSettingsIsACopy(t *testing.T) {
	s, err := ProfileSettings("research")
	if err != nil {
		t.Fatal(err)
	}
	s["max_evals"] = 1
	c, _ := mustLoad(t, Sources{Profile: "research"})
	if c.MaxEvals != 100 {
		t.Errorf("changing ProfileSettings' map changed the profile: max_evals = %d", c.MaxEvals)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		src  Sources
		file string
		want []string // substrings of the error, in order
	}{
		{"unknown profile", Sources{Profile: "prod"}, "",
			[]string{`config: unknown profile "prod" (profiles: default, development, production, research)`}},
		{"unknown set key", Sources{Set: []string{"max_eval=3"}}, "",
			[]string{`unknown key "max_eval" in flag:--set; did you mean max_evals?`}},
		{"dashes", Sources{Set: []string{"min-r2-threshold=0.8"}}, "",
			[]string{`did you mean min_r2_threshold?`}},
		{"upper case", Sources{Set: []string{"MAX_EVALS=3"}}, "",
			[]string{`did you mean max_evals?`}},
		{"no suggestion", Sources{Set: []string{"zzzzzzzz=1"}}, "",
			[]string{`unknown key "zzzzzzzz" in flag:--set; ` + "`tabforge config show` lists the keys"}},
		{"unknown flag key", Sources{Flags: map[string]string{"max_evalz": "3"}}, "",
			[]string{`unknown key "max_evalz" in flag; did you mean max_evals?`}},
		{"not key=value", Sources{Set: []string{"seed"}}, "", []string{`--set "seed": want KEY=VALUE`}},
		{"unknown env", Sources{Env: []string{"TABFORGE_MIN_R2=0.8"}}, "",
			[]string{`unknown environment variable TABFORGE_MIN_R2; did you mean TABFORGE_MIN_R2_THRESHOLD?`}},
		{"int type", Sources{Set: []string{"max_evals=abc"}}, "",
			[]string{`max_evals: "abc" is not an integer (set by flag:--set)`}},
		{"bool type", Sources{Env: []string{"TABFORGE_USE_OPTUNA=maybe"}}, "",
			[]string{`use_optuna: "maybe" is not a boolean (true or false) (set by env:TABFORGE_USE_OPTUNA)`}},
		{"uint type", Sources{Set: []string{"seed=-1"}}, "",
			[]string{`seed: "-1" is not a non-negative integer`}},
		{"float type", Sources{Set: []string{"min_r2_threshold=high"}}, "",
			[]string{`min_r2_threshold: "high" is not a number`}},
		{"duration type", Sources{Set: []string{"time_budget=5 minutes"}}, "",
			[]string{`time_budget: "5 minutes" is not a duration (e.g. 90s, 30m, 2h)`}},
		{"empty int", Sources{Set: []string{"cv_folds="}}, "",
			[]string{`cv_folds: empty value; want an integer`}},
		{"map key twice", Sources{Set: []string{"schema=zip:categorical, zip:numeric"}}, "",
			[]string{`schema: "zip" appears twice (set by flag:--set)`}},
		{"list element", Sources{Set: []string{"temporal_lags=1,x"}}, "",
			[]string{`temporal_lags: element 1: "x" is not an integer`}},
		{"invalid utf-8 string", Sources{Set: []string{"target=\xb0"}}, "",
			[]string{`target: "\xb0" is not valid UTF-8 (set by flag:--set)`}},
		{"invalid utf-8 list", Sources{Env: []string{"TABFORGE_DROP=a,\xff"}}, "",
			[]string{`drop: "a,\xff" is not valid UTF-8`}},
		{"bad flow", Sources{Set: []string{"model_params={gbdt: [}"}}, "",
			[]string{`model_params: "{gbdt: [}" is not a mapping in YAML flow syntax`}},
		{"model_params scalar", Sources{Set: []string{"model_params=gbdt"}}, "",
			[]string{`model_params: "gbdt" is not a mapping`}},
		{"flag conflict", Sources{Flags: map[string]string{"seed": "1"}, Set: []string{"seed=2"}}, "",
			[]string{`seed: --set gives "2" but its flag gives "1"; pass one`}},
		{"validation names origin", Sources{Env: []string{"TABFORGE_TASK=foo"}}, "",
			[]string{`task: "foo" is not one of auto, regression, binary, multiclass (set by env:TABFORGE_TASK)`}},
		{"all errors at once", Sources{Set: []string{"max_eval=3", "seed=abc", "task=foo"}}, "",
			[]string{`unknown key "max_eval"`, `seed: "abc"`, `task: "foo"`}},
		{"file unknown key", Sources{}, "seed: 1\nmax_eval: 3\n",
			[]string{`unknown key "max_eval" in file:`, `:2; did you mean max_evals?`}},
		{"file type error", Sources{}, "max_evals: [1]\n",
			[]string{`max_evals: got a list; want an integer (set by file:`}},
		{"file mapping for list", Sources{}, "drop: {a: 1}\n",
			[]string{`drop: got a mapping; want a list of strings`}},
		{"file duplicate", Sources{}, "seed: 1\nseed: 2\n",
			[]string{`seed: appears twice, also at line 1 (set by file:`}},
		{"file profile key", Sources{}, "profile: research\n",
			[]string{`profile: not a key: choose the profile with --profile or TABFORGE_PROFILE`}},
		{"file not a mapping", Sources{}, "- a\n- b\n", []string{`want a mapping of key: value pairs`}},
		{"file bad yaml", Sources{}, "seed: [\n", []string{`config: config file `}},
		{"file schema kind", Sources{}, "schema: {d: date}\n",
			[]string{`schema: column "d": "date" is not one of numeric, categorical, datetime (set by file:`}},
		{"missing file", Sources{File: "/nonexistent/tabforge.yaml"}, "",
			[]string{`config: reading config file: open /nonexistent/tabforge.yaml`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.src
			if tt.file != "" {
				src.File = writeFile(t, tt.file)
			}
			c, p, err := Load(src)
			if err == nil {
				t.Fatalf("Load succeeded; want error containing %q", tt.want)
			}
			if c != nil || p != nil {
				t.Errorf("Load returned a Config or Provenance with an error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
			rest := msg
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error %q\ndoes not contain %q (in order)", msg, w)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestLoadErrorTypes(t *testing.T) {
	_, _, err := Load(Sources{Set: []string{"max_eval=3", "seed=abc"}})
	var ue *UnknownKeyError
	if !errors.As(err, &ue) || ue.Key != "max_eval" || ue.Suggestion != "max_evals" {
		t.Errorf("errors.As(UnknownKeyError) = %+v; want key max_eval, suggestion max_evals", ue)
	}
	var ke *KeyError
	if !errors.As(err, &ke) || ke.Key != "seed" || ke.Origin.Kind != FromFlag {
		t.Errorf("errors.As(KeyError) = %+v; want key seed from a flag", ke)
	}
}

func TestEnvAllowlist(t *testing.T) {
	// TABFORGE_STORE is an ordinary key; TEST_ variables and the CLI's
	// own are ignored; variables without the prefix are never read.
	c, p := mustLoad(t, Sources{Env: []string{
		"TABFORGE_STORE=redis://127.0.0.1:6379/0",
		"TABFORGE_TEST_REDIS_PORT=6390",
		"TABFORGE_DEBUG=1",            // read by the CLI, not a key
		"TABFORGE_ADMIN_TOKEN=secret", // read by serve and ui, not a key
		"SEED=9",
		"tabforge_seed=9",
	}})
	if c.Store != "redis://127.0.0.1:6379/0" || p.Origin("store").String() != "env:TABFORGE_STORE" {
		t.Errorf("store = %q from %v; want the env value", c.Store, p.Origin("store"))
	}
	if c.Seed != 42 {
		t.Errorf("seed = %d; want 42 (non-TABFORGE variables are not read)", c.Seed)
	}
}

func TestEmptyFile(t *testing.T) {
	c, p := mustLoad(t, Sources{File: writeFile(t, "# nothing\n")})
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("empty file changed the config: %+v", c)
	}
	if p.File == "" {
		t.Errorf("Provenance.File is empty")
	}
}

func TestNullInFile(t *testing.T) {
	c, _ := mustLoad(t, Sources{File: writeFile(t, "drop: ~\ntime_column:\ntime_budget: ~\n"), Set: []string{"drop=a"}})
	if !reflect.DeepEqual(c.Drop, []string{"a"}) || c.TimeColumn != "" || c.TimeBudget != 0 {
		t.Errorf("drop %v, time_column %q, time_budget %v", c.Drop, c.TimeColumn, c.TimeBudget)
	}
	_, _, err := Load(Sources{File: writeFile(t, "max_evals: ~\n")})
	if err == nil || !strings.Contains(err.Error(), "max_evals: empty value; want an integer") {
		t.Errorf("null max_evals: err = %v", err)
	}
}
