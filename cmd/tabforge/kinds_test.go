package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryModelKind trains a single model, an ensemble and a per-segment
// routed model through the CLI and runs every command that takes a model
// on each: verify, predict, evaluate, explain and export. None may panic;
// export succeeds only for a plain gbdt model and otherwise names the kind.
func TestEveryModelKind(t *testing.T) {
	kinds := []struct {
		name      string
		train     []string
		family    string // a substring of the kind's Family()
		exportsOK bool
	}{
		{"single", []string{"--models", "gbdt", "--cv-folds", "0"}, "gbdt", true},
		{"ensemble", []string{"--models", "ridge,tree", "--cv-folds", "2", "--set", "ensemble_top_k=2", "--set", "cv=kfold"}, "ensemble:", false},
		{"routed", []string{"--models", "gbdt", "--cv-folds", "0", "--segment-by", "Bldg_Type", "--set", "min_segment_rows=40"}, "routed by Bldg_Type", false},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"train", "--data", testdata("ames.csv"), "--target", "Sale_Price", "--time-column", "Year_Sold,Mo_Sold",
				"--profile", "development", "--set", "force_production_quality=false", "--out", filepath.Join(dir, "models"), "--json"}, k.train...)
			code, out, errs := cli(t, dir, args...)
			if code != 0 {
				t.Fatalf("train: exit %d\n%s", code, errs)
			}
			var res struct {
				Best         string `json:"best"`
				ModelPath    string `json:"model_path"`
				ModelVersion string `json:"model_version"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("train --json: %v\n%s", err, out)
			}
			t.Logf("best %s, version %s", res.Best, res.ModelVersion)
			code, out, errs = cli(t, dir, "models", "verify", "ames/"+res.ModelVersion)
			if code != 0 || !strings.Contains(out, k.family) {
				t.Errorf("models verify: exit %d, want a line naming %q\nstdout: %s\nstderr: %s", code, k.family, out, errs)
			}
			// An ensemble is called what train called it ("ensemble:average"),
			// not "ensemble:voting(ridge+tree)".
			if k.name == "ensemble" && !strings.Contains(out, " ok: "+res.Best+" (members ") {
				t.Errorf("models verify: %q; want the model named %q as train named it, members apart", out, res.Best)
			}
			steps := []struct {
				args   []string
				wantOK bool
			}{
				{[]string{"predict", "--model", res.ModelPath, "--data", testdata("ames.csv"), "--out", filepath.Join(dir, "pred.csv")}, true},
				{[]string{"evaluate", "--model", res.ModelPath, "--data", testdata("ames.csv")}, true},
				{[]string{"explain", "--model", res.ModelPath, "--data", testdata("ames.csv"), "--rows", "0-4", "--out", filepath.Join(dir, "shap.csv")}, true},
				{[]string{"predict", "--model", "ames/" + res.ModelVersion, "--data", testdata("ames.csv"), "--out", filepath.Join(dir, "pred.csv")}, true},
				{[]string{"evaluate", "--model", res.ModelVersion[:8], "--data", testdata("ames.csv")}, true},
				{[]string{"explain", "--model", "ames/" + res.ModelVersion, "--data", testdata("ames.csv"), "--rows", "0-4", "--out", filepath.Join(dir, "shap.csv")}, true},
				{[]string{"export", "--model", "ames/" + res.ModelVersion, "--format", "xgboost-json", "--out", filepath.Join(dir, "xgb.json")}, k.exportsOK},
				{[]string{"export", "--model", res.ModelPath, "--format", "xgboost-json", "--out", filepath.Join(dir, "xgb.json")}, k.exportsOK},
			}
			for _, s := range steps {
				code, out, errs := cli(t, dir, s.args...)
				if strings.Contains(errs, "panic") || strings.Contains(errs, "goroutine ") {
					t.Fatalf("%s panicked:\n%s", s.args[0], errs)
				}
				if ok := code == 0; ok != s.wantOK {
					t.Errorf("%s: exit %d, want success %v\nstdout: %s\nstderr: %s", s.args[0], code, s.wantOK, out, errs)
				}
				if !s.wantOK && code != 0 && !strings.Contains(errs, k.family) {
					t.Errorf("%s: the refusal should name the model kind %q: %s", s.args[0], k.family, errs)
				}
			}
		})
	}
}
