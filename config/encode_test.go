package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// fancy returns a Config with a non-default value in every kind of field,
// including the awkward ones: strings that look like other YAML types,
// separators inside list elements and map keys, nested params.
func fancy() *Config {
	c := Default()
	c.Data = "data dir/ames.csv"
	c.Target = "true"
	c.Task = TaskBinary
	c.TimeColumn = "2014"
	c.SegmentColumn = "city: name"
	c.Drop = []string{"a,b", "null", "[x]", "#c"}
	c.PositiveClass = "yes"
	c.MissingValues = MissingValues{All: []string{"NA", "0"}, Columns: map[string][]string{"bp": {"0", "-1"}, "a: b": {"null"}}}
	c.Schema = map[string]ColumnKind{"a.b": KindDatetime, "z:1": KindCategorical}
	c.TestFraction = 0.125
	c.AsOf, c.TimeColumn = "2014-06-01", "date"
	c.CVFolds = 10
	c.CV = CVTimeSeries
	c.Models = []string{"gbdt", "linear"}
	c.ModelParams = map[string]map[string]any{
		"gbdt":   {"max_depth": 6, "eta": 0.05, "objective": "huber", "monotone": []any{1, -1}},
		"linear": {"alpha": 1.5, "fit_intercept": false},
	}
	c.Seed = 1<<64 - 1
	c.Workers = 2
	c.EnableAdvancedFeatures = true
	c.EnableInteractionFeatures = true
	c.TemporalLags = []int{1, 24}
	c.RollingWindows = nil
	c.TargetEncodingSmoothing = 2.5
	c.SegmentBy = "city"
	c.EnableHyperparameterTuning = true
	c.UseOptuna = false
	c.MaxEvals = 7
	c.TimeBudget = Duration(90 * time.Second)
	c.Pruner = PrunerHyperband
	c.MinR2Threshold = -1e9
	c.MinBusinessAccuracy = 12.5
	c.MaxLatency = Duration(1500 * time.Microsecond)
	c.BiasVarianceRounds = 20
	zero := 0.0
	c.BusinessRules = []BusinessRule{{Name: "positive: price", Kind: RuleBounds, Min: &zero, Gate: true},
		{Name: "area", Kind: RuleMonotonic, Feature: "Gr Liv", Direction: "increasing", Threshold: 0.05}}
	c.Store = "redis://127.0.0.1:6379/2"
	c.Out = "out dir"
	c.LogFormat = LogJSON
	c.LogLevel = LogDebug
	return c
}

func TestYAMLRoundTrip(t *testing.T) {
	research, _ := mustLoad(t, Sources{Profile: "research"})
	tests := []struct {
		name string
		c    *Config
	}{
		{"default", Default()},
		{"research", research},
		{"fancy", fancy()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.c.Validate(); err != nil {
				t.Fatalf("test config is invalid: %v", err)
			}
			b, err := tt.c.YAML()
			if err != nil {
				t.Fatal(err)
			}
			got, p := mustLoad(t, Sources{File: writeFile(t, string(b))})
			if !reflect.DeepEqual(got, tt.c) {
				t.Errorf("YAML round trip changed the config.\nYAML:\n%s\ngot  %+v\nwant %+v", b, got, tt.c)
			}
			if got.Hash() != tt.c.Hash() {
				t.Errorf("hash changed over the round trip")
			}
			// Every key is in the output, so every key comes from the file.
			for _, k := range Keys() {
				if p.Origin(k).Kind != FromFile {
					t.Errorf("key %s not in YAML output", k)
				}
			}
			// Loading it back is not switching anything on explicitly.
			errs, _ := got.Unavailable(Capabilities{}, p)
			if tt.name == "default" && len(errs) != 0 {
				t.Errorf("reloading the default YAML gives errors %v", errs)
			}
		})
	}
}

func TestYAMLKeyOrder(t *testing.T) {
	b, err := Default().YAML()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" || line[0] == ' ' {
			continue
		}
		k, _, _ := strings.Cut(line, ":")
		keys = append(keys, k)
	}
	if !reflect.DeepEqual(keys, Keys()) {
		t.Errorf("YAML keys =\n%v\nwant Keys() =\n%v", keys, Keys())
	}
	again, _ := Default().YAML()
	if string(again) != string(b) {
		t.Errorf("YAML output is not stable")
	}
}

func TestAnnotatedYAML(t *testing.T) {
	c, p := mustLoad(t, Sources{
		Profile: "research",
		Env:     []string{"TABFORGE_MAX_EVALS=3"},
		Set:     []string{"drop=a,b", "schema=d:datetime", "model_params={gbdt: {eta: 0.1}}"},
	})
	b, err := c.AnnotatedYAML(p)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		"# profile: research\n",
		"max_evals: 3 # env:TABFORGE_MAX_EVALS\n",
		"enable_hyperparameter_tuning: true # profile:research\n",
		"drop: [a, b] # flag:--set\n",
		"schema: # flag:--set\n  d: datetime\n",
		"seed: 42\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("AnnotatedYAML lacks %q:\n%s", want, s)
		}
	}
	got, _ := mustLoad(t, Sources{File: writeFile(t, s)})
	if !reflect.DeepEqual(got, c) {
		t.Errorf("AnnotatedYAML does not load back to the same config:\n%s", s)
	}
}

func TestHash(t *testing.T) {
	base := Default().Hash()
	// The canonical encoding of the default config. If this changes on
	// purpose, bump hashVersion so old cache keys miss.
	const golden = "1187d7c39c61335da3c45efed8358c8bbce413ba6fdb3053b72ed5eab74c6d98"
	if base != golden {
		t.Errorf("Default().Hash() = %s; want %s", base, golden)
	}
	tests := []struct {
		name   string
		modify func(c *Config)
		same   bool
	}{
		{"nothing", func(c *Config) {}, true},
		{"workers", func(c *Config) { c.Workers = 8 }, true},
		{"store", func(c *Config) { c.Store = "redis://x:1/0" }, true},
		{"out", func(c *Config) { c.Out = "elsewhere" }, true},
		{"log", func(c *Config) { c.LogFormat, c.LogLevel = LogJSON, LogDebug }, true},
		{"data path", func(c *Config) { c.Data = "moved.csv" }, true},
		{"empty list vs nil", func(c *Config) { c.Drop, c.Schema = []string{}, map[string]ColumnKind{} }, true},
		{"seed", func(c *Config) { c.Seed = 43 }, false},
		{"flag", func(c *Config) { c.EnableTemporalFeatures = false }, false},
		{"threshold", func(c *Config) { c.MinR2Threshold = 0.7500001 }, false},
		{"params", func(c *Config) { c.ModelParams = map[string]map[string]any{"gbdt": {"eta": 0.1}} }, false},
		{"time budget", func(c *Config) { c.TimeBudget = Duration(time.Minute) }, false},
		{"meta learning", func(c *Config) { c.MetaLearning = true }, false},
	}
	for _, tt := range tests {
		c := Default()
		tt.modify(c)
		if got := c.Hash() == base; got != tt.same {
			t.Errorf("%s: hash unchanged = %v; want %v", tt.name, got, tt.same)
		}
	}
	// Map insertion order does not matter; int and float of equal value hash
	// alike (JSON has one number type).
	a, b := Default(), Default()
	a.ModelParams = map[string]map[string]any{"gbdt": {"a": 1, "b": 2.0}, "linear": {"alpha": 1}}
	b.ModelParams = map[string]map[string]any{"linear": {"alpha": 1.0}, "gbdt": {"b": 2, "a": 1}}
	if a.Hash() != b.Hash() {
		t.Errorf("equal model_params hash differently")
	}
}
