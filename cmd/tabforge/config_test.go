package main

import (
	"encoding/json"
	"strings"
	"testing"
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
	t.Setenv("TABFORGE_NOT_A_KEY", "1")
	code, _, stderr = tabforge(t, dir, "config", "show")
	if code != 2 || !strings.Contains(stderr, "TABFORGE_NOT_A_KEY") {
		t.Errorf("unknown TABFORGE_ variable: exit %d, %q; want exit 2 naming it", code, stderr)
	}
}

// TestStageNotAvailable: a stage this build lacks, asked for explicitly,
// is refused; turned on only by a profile it warns and runs the basic path.
func TestStageNotAvailable(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := tabforge(t, dir, "train", "--data", testdata("credit_data.csv"), "--target", "Status",
		"--set", "enable_advanced_ensemble=true")
	if code != 2 || !strings.Contains(stderr, "not available yet") {
		t.Errorf("explicit tuning: exit %d, %q; want exit 2 and 'not available yet'", code, stderr)
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
	if !strings.Contains(strings.Join(res.Warnings, "\n"), "not available yet") {
		t.Errorf("research profile warnings %q; want the unavailable stages listed", res.Warnings)
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
}
