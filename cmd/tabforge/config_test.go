package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/pipeline"
)

// TestConfigLayers checks the CLI's config contract: profile < file <
// environment < flags, any key through --set or TABFORGE_<KEY>.
func TestConfigLayers(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TABFORGE_MIN_R2_THRESHOLD", "0.6")
	t.Setenv("TABFORGE_MAX_EVALS", "7")
	code, out, stderr := tabforge(t, dir, "config", "show", "--profile", "research", "--set", "max_evals=9")
	if code != 0 {
		t.Fatalf("config show exit %d: %s", code, stderr)
	}
	for _, want := range []string{"min_r2_threshold: 0.6", "max_evals: 9", "enable_interaction_features: true"} {
		if !strings.Contains(out, want) {
			t.Errorf("config show lacks %q:\n%s", want, out)
		}
	}
	var o, e bytes.Buffer
	code = run(context.Background(), []string{"config", "show", "--store", "redis://:hunter2@127.0.0.1:6399/0"}, &o, &e)
	out, stderr = o.String(), e.String()
	if code != 0 || strings.Contains(out, "hunter2") || !strings.Contains(out, "redis://:xxxxx@127.0.0.1:6399/0") {
		t.Errorf("config show of a store with a password: exit %d\n%s%s\nwant the password masked", code, out, stderr)
	}
	// The corpus variable the README's test commands use is no key.
	t.Setenv("TABFORGE_META_CORPUS", "/x")
	if code, _, stderr := tabforge(t, dir, "config", "show"); code != 0 {
		t.Errorf("config show beside TABFORGE_META_CORPUS: exit %d %s", code, stderr)
	}
	t.Setenv("TABFORGE_NOT_A_KEY", "1")
	code, _, stderr = tabforge(t, dir, "config", "show")
	if code != 2 || !strings.Contains(stderr, "TABFORGE_NOT_A_KEY") {
		t.Errorf("unknown TABFORGE_ variable: exit %d, %q; want exit 2 naming it", code, stderr)
	}
}

// TestStageNotAvailable: this build implements every stage a config key
// can switch on (the refusal of unbuilt stages is tested in package
// config with a smaller build), and the research profile runs without
// "not available" warnings.
func TestStageNotAvailable(t *testing.T) {
	dir := t.TempDir()
	for _, sk := range config.StageKeys() {
		if !pipeline.Available(sk.Key) {
			t.Errorf("stage %s (%s) is not available in this build", sk.Key, sk.Stage)
		}
	}
	code, stdout, stderr := tabforge(t, dir, "train", "--data", testdata("credit_data.csv"), "--target", "Status",
		"--profile", "research", "--models", "logistic", "--cv-folds", "0", "--out", dir, "--json", "--log-format", "json")
	if code != 0 {
		t.Fatalf("research profile: exit %d: %s", code, stderr)
	}
	var res struct {
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(res.Warnings, "\n"); strings.Contains(w, "not available yet") {
		t.Errorf("research profile warnings %q; every research stage is built", w)
	}
	// --log-format json: every stderr line is a JSON object.
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("stderr line is not JSON: %q", line)
		}
	}
}

// TestQualityGate: a deliberately weak model on ames fails the default
// 0.75 R² gate with exit 1 and the reason; the development profile turns
// gates off.
func TestQualityGate(t *testing.T) {
	dir := t.TempDir()
	args := []string{"train", "--data", testdata("ames.csv"), "--target", "Sale_Price", "--models", "tree",
		"--set", `model_params={tree: {max_depth: 1}}`, "--cv-folds", "0", "--out", dir}
	code, stdout, stderr := tabforge(t, dir, args...)
	if code != 1 || !strings.Contains(stderr, "min_r2_threshold") {
		t.Errorf("weak model: exit %d, stderr %q; want exit 1 naming the gate", code, stderr)
	}
	if !strings.Contains(stdout, "FAIL") {
		t.Errorf("leaderboard does not show the failed gate:\n%s", stdout)
	}
	code, _, stderr = tabforge(t, dir, append(args, "--profile", "development")...)
	if code != 0 {
		t.Errorf("development profile: exit %d: %s", code, stderr)
	}
	// The production profile (temporal and market features, the simple
	// ensemble, gates on) passes the gates on ames.
	code, stdout, stderr = tabforge(t, dir, "train", "--data", testdata("ames.csv"), "--target", "Sale_Price",
		"--time-column", "Year_Sold,Mo_Sold", "--segment-column", "Neighborhood", "--test-rows", testdata("splits/ames.test_rows.txt"),
		"--models", "ridge,gbdt", "--profile", "production", "--out", dir)
	if code != 0 || !strings.Contains(stdout, "gate min_r2_threshold") || strings.Contains(stdout, "FAIL") {
		t.Errorf("production profile on ames: exit %d, stderr %q:\n%s", code, stderr, stdout)
	}
}

// TestTrainRefusesBadSearch: a search range the tuner cannot use is a
// usage error (exit 2) naming the key, before any data is read or run
// recorded; it once failed the family late, exit 0 with a warning.
func TestTrainRefusesBadSearch(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := tabforge(t, dir, "train", "--data", filepath.Join(dir, "absent.csv"), "--target", "Status",
		"--models", "logistic", "--set", "enable_hyperparameter_tuning=true", "--cv-folds", "3", "--out", dir,
		"--set", "model_params={logistic: {c: {low: 10, high: 1}}}")
	if code != 2 || !strings.Contains(stderr, "model_params: logistic") || !strings.Contains(stderr, "low > high") {
		t.Errorf("exit %d, stderr %q; want exit 2 naming model_params and the range", code, stderr)
	}
}

// TestConfigFlagsEveryCommand: --set, --config and --profile are global
// flags; a command that reads no config (drift, gen, version, predict or
// evaluate with a model file) ignored them, a typo or a missing file
// included, and exited 0. They are checked for every command; a valid
// one changes nothing.
func TestConfigFlagsEveryCommand(t *testing.T) {
	dir := t.TempDir()
	data := testdata("txhousing.csv")
	gen := []string{"gen", "sales", "--rows", "10", "--seed", "1", "--start", "2022-01-01", "--months", "2", "--out", filepath.Join(dir, "g.csv")}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"drift", "--reference", data, "--current", data, "--set", "min_r2_treshold=0.8"}, 2, "min_r2_treshold"},
		{append(gen, "--profile", "prodution"), 2, "prodution"},
		{[]string{"version", "--config", filepath.Join(dir, "missing.yaml")}, 2, "missing.yaml"},
		{append(gen, "--set", "workers=2"), 0, ""},
	} {
		code, _, stderr := tabforge(t, dir, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %q; want %d naming %q", c.args, code, stderr, c.code, c.want)
		}
	}
}

// TestTrainWarnsUnusedModelParams: model_params of a family the run does
// not train are no error (a profile or shared config may set every
// family's) but one warning, logged once and listed in train --json's
// warnings; a name that is no family stays a usage error.
func TestTrainWarnsUnusedModelParams(t *testing.T) {
	dir := t.TempDir()
	args := []string{"train", "--data", testdata("ames.csv"), "--target", "Sale_Price", "--models", "ridge", "--cv-folds", "0",
		"--profile", "development", "--out", dir, "--json"}
	want := "model_params: forest, gbdt are not in this run's models (ridge); their parameters are unused"
	code, stdout, stderr := tabforge(t, dir, append(args, "--set", "model_params={gbdt: {max_depth: 3}, forest: {trees: 20}, ridge: {alpha: 2}}")...)
	var res struct{ Warnings []string }
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil {
		t.Fatalf("train: exit %d, stderr %q, stdout %q", code, stderr, stdout)
	}
	if !slices.Contains(res.Warnings, want) {
		t.Errorf("train --json warnings = %q; want %q", res.Warnings, want)
	}
	if n := strings.Count(stderr, "parameters are unused"); n != 1 || !strings.Contains(stderr, "WARN") {
		t.Errorf("stderr %q warns of the unused params %d times; want one WARN", stderr, n)
	}
	code, stdout, _ = tabforge(t, dir, append(args, "--set", "model_params={ridge: {alpha: 2}}")...)
	if code != 0 || strings.Contains(stdout, "unused") {
		t.Errorf("train with the trained family's params only: exit %d, warns of unused params:\n%s", code, stdout)
	}
	code, _, stderr = tabforge(t, dir, append(args, "--set", "model_params={gdbt: {max_depth: 3}}")...)
	if code != 2 || !strings.Contains(stderr, `"gdbt" is not a model family`) {
		t.Errorf("misspelt family: exit %d, stderr %q; want 2 naming it", code, stderr)
	}
}
