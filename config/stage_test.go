package config

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestUnavailable(t *testing.T) {
	// This build implements the as-of holdout only, besides the basic path.
	only := func(keys ...string) Capabilities {
		return Capabilities{Version: "tabforge 0.1", Available: func(k string) bool { return slices.Contains(keys, k) }}
	}
	impl := "(tabforge 0.1 implements: the basic path, as-of temporal holdout)"
	tests := []struct {
		name         string
		src          Sources
		caps         Capabilities
		wantErrs     []string
		wantWarnings []string
	}{
		{
			name: "default: gates on by default warn",
			src:  Sources{}, caps: only("as_of"),
			wantWarnings: []string{"force_production_quality: not available yet " + impl + "; on by default, continuing without quality gates"},
		},
		{
			name: "default with gates available",
			src:  Sources{}, caps: only("as_of", "force_production_quality"),
		},
		{
			name: "explicit flag is an error",
			src:  Sources{Profile: "development", Set: []string{"enable_hyperparameter_tuning=true"}}, caps: only("as_of"),
			wantErrs: []string{"enable_hyperparameter_tuning: not available yet " + impl + "; set by flag:--set"},
		},
		{
			name: "explicit env is an error",
			src:  Sources{Profile: "development", Env: []string{"TABFORGE_ENABLE_ADVANCED_ENSEMBLE=true"}}, caps: only("as_of"),
			wantErrs: []string{"enable_advanced_ensemble: not available yet " + impl + "; set by env:TABFORGE_ENABLE_ADVANCED_ENSEMBLE"},
		},
		{
			name: "explicit available stage is fine",
			src:  Sources{Profile: "development", Set: []string{"as_of=2014-01-01", "time_column=date"}}, caps: only("as_of"),
		},
		{
			name: "research profile only warns",
			src:  Sources{Profile: "research"}, caps: only("as_of"),
			wantWarnings: []string{
				"enable_temporal_features: not available yet " + impl + "; on by profile:research, continuing without temporal features",
				"enable_market_features: not available yet " + impl + "; on by profile:research, continuing without market features",
				"enable_interaction_features: not available yet " + impl + "; on by profile:research, continuing without interaction features",
				"enable_hyperparameter_tuning: not available yet " + impl + "; on by profile:research, continuing without hyperparameter tuning",
				"enable_advanced_ensemble: not available yet " + impl + "; on by profile:research, continuing without advanced ensembles",
				"force_production_quality: not available yet " + impl + "; on by default, continuing without quality gates",
			},
		},
		{
			name: "research with the sub-flag turned off",
			src:  Sources{Profile: "research", Set: []string{"enable_interaction_features=false", "enable_market_features=false"}},
			caps: only("as_of", "enable_temporal_features", "enable_hyperparameter_tuning", "enable_advanced_ensemble", "force_production_quality"),
		},
		{
			name: "gate set explicitly blames the gate",
			src:  Sources{Profile: "development", Set: []string{"enable_advanced_features=true"}}, caps: only("as_of"),
			wantErrs: []string{
				"enable_advanced_features: switches on temporal features (enable_temporal_features), which is not available yet " + impl +
					"; set by flag:--set; set enable_temporal_features=false to go on without it",
				"enable_advanced_features: switches on market features (enable_market_features), which is not available yet " + impl +
					"; set by flag:--set; set enable_market_features=false to go on without it",
			},
		},
		{
			name: "restating a profile value in a file only warns",
			src:  Sources{Profile: "production", File: "enable_advanced_features: true\nforce_production_quality: true\n"},
			caps: only("as_of", "force_production_quality", "enable_market_features"),
			wantWarnings: []string{
				"enable_temporal_features: not available yet (tabforge 0.1 implements: the basic path, as-of temporal holdout, market features, quality gates); on by profile:production, continuing without temporal features",
			},
		},
		{
			name:     "sub-flag and gate both explicit blames the sub-flag",
			src:      Sources{Profile: "development", File: "enable_advanced_features: true\nenable_interaction_features: true\nenable_temporal_features: false\nenable_market_features: false\n"},
			caps:     only("as_of"),
			wantErrs: []string{"enable_interaction_features: not available yet " + impl + "; set by file:$F:2"},
		},
		{
			name: "per-segment floor behind its gate",
			src:  Sources{Set: []string{"min_segment_business_accuracy=60", "segment_column=Neighborhood"}}, caps: only("as_of", "force_production_quality"),
			wantErrs: []string{"min_segment_business_accuracy: not available yet (tabforge 0.1 implements: the basic path, as-of temporal holdout, quality gates); set by flag:--set"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.src
			path := ""
			if src.File != "" {
				path = writeFile(t, src.File)
				src.File = path
			}
			c, p := mustLoad(t, src)
			errs, warnings := c.Unavailable(tt.caps, p)
			var got []string
			for _, err := range errs {
				var ue *UnavailableError
				if !errors.As(err, &ue) {
					t.Errorf("%v is not an *UnavailableError", err)
				}
				got = append(got, err.Error())
			}
			var want []string
			for _, w := range tt.wantErrs {
				want = append(want, replacePath(w, path))
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("errors:\n got %q\nwant %q", got, want)
			}
			if !reflect.DeepEqual(warnings, tt.wantWarnings) {
				t.Errorf("warnings:\n got %q\nwant %q", warnings, tt.wantWarnings)
			}
		})
	}
}

func replacePath(s, path string) string {
	if path == "" {
		return s
	}
	return strings.ReplaceAll(s, "$F", path)
}

func TestUnavailableWithoutProvenance(t *testing.T) {
	c := Default()
	c.EnableAdvancedEnsemble = true
	errs, warnings := c.Unavailable(Capabilities{Available: func(k string) bool { return k == "force_production_quality" }}, nil)
	want := "enable_advanced_ensemble: not available yet (this build implements: the basic path, quality gates)"
	if len(errs) != 1 || errs[0].Error() != want {
		t.Errorf("errors = %v; want [%s]", errs, want)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings = %q; want none", warnings)
	}
}

func TestStageKeysAreKeys(t *testing.T) {
	for _, sk := range StageKeys() {
		if !IsKey(sk.Key) || sk.Gate != "" && !IsKey(sk.Gate) {
			t.Errorf("stage key %+v names an unknown key", sk)
		}
		if sk.On(Default()) && sk.Key != "force_production_quality" {
			t.Errorf("stage %s is on by default", sk.Stage)
		}
	}
	for _, d := range dependents() {
		for _, k := range d.keys {
			if !IsKey(k) {
				t.Errorf("dependent key %q is unknown", k)
			}
		}
	}
}

func TestIneffective(t *testing.T) {
	tests := []struct {
		name string
		src  Sources
		want []string
	}{
		{"none", Sources{}, nil},
		{"stacking without advanced ensemble", Sources{Set: []string{"use_stacking=false"}},
			[]string{"use_stacking: has no effect while enable_advanced_ensemble is false (set by flag:--set)"}},
		{"unchanged value", Sources{Set: []string{"max_evals=50"}}, nil},
		{"tuning on", Sources{Profile: "research", Set: []string{"max_evals=10"}}, nil},
		{"gates off in development", Sources{Profile: "development", Env: []string{"TABFORGE_MIN_R2_THRESHOLD=0.9"}},
			[]string{"min_r2_threshold: has no effect while force_production_quality is false (set by env:TABFORGE_MIN_R2_THRESHOLD)"}},
		{"profile values are not warned about", Sources{Profile: "development"}, nil},
		{"lags without temporal", Sources{Set: []string{"temporal_lags=1"}},
			[]string{"temporal_lags: has no effect while temporal features are off (set by flag:--set)"}},
		{"test fraction beside an as-of date", Sources{Flags: map[string]string{"as_of": "2009-07-01", "time_column": "date", "test_fraction": "0.3"}},
			[]string{"test_fraction: has no effect while test_rows or as_of chooses the test rows (set by flag)"}},
		{"test fraction alone", Sources{Flags: map[string]string{"test_fraction": "0.3"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, p := mustLoad(t, tt.src)
			if got := c.Ineffective(p); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Ineffective =\n %q\nwant %q", got, tt.want)
			}
		})
	}
}
