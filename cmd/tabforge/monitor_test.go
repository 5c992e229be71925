package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMonitorRealised joins a two-line prediction log with actuals.
func TestMonitorRealised(t *testing.T) {
	dir := t.TempDir()
	log := `{"request_id":"a","time":"2024-03-01T10:00:00Z","model":"price","version":"v1","variant":"production","rows":2,"inputs_sha256":"x","predictions":[10,20]}
{"request_id":"b","time":"2024-03-02T10:00:00Z","model":"price","version":"v2","variant":"production","rows":1,"inputs_sha256":"x","predictions":[30]}
`
	if err := os.WriteFile(filepath.Join(dir, "pred.log"), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "actuals.csv"), []byte("request_id,row,actual\na,0,11\na,1,19\nb,0,33\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := tabforge(t, dir, "monitor", "realised", "--log", filepath.Join(dir, "pred.log"), "--actuals", filepath.Join(dir, "actuals.csv"), "--json")
	if code != 0 {
		t.Fatalf("monitor realised: exit %d\n%s", code, stderr)
	}
	var r struct {
		Joined int
		Groups []struct {
			Version string
			Rows    int
			Metrics map[string]float64
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	// v1: errors 1 and 1; v2: error 3.
	if r.Joined != 3 || len(r.Groups) != 2 || r.Groups[0].Version != "v1" || r.Groups[0].Metrics["mae"] != 1 || r.Groups[1].Metrics["mae"] != 3 {
		t.Errorf("monitor realised --json = %s", out)
	}
	if code, _, _ := tabforge(t, dir, "monitor", "realised", "--log", filepath.Join(dir, "pred.log")); code != 2 {
		t.Errorf("without --actuals: exit %d; want 2", code)
	}
}

// TestMonitorRealisedNumberClasses: a classifier trained on a numeric
// target (class codes such as Glass's types 1-7) predicts the labels "1"
// and "3", and actuals exported as floats ("1.0", as pandas writes a
// column with a missing value) are those classes. Compared as text, every
// such actual counted as a miss (accuracy 0 for a model right on both).
func TestMonitorRealisedNumberClasses(t *testing.T) {
	dir := t.TempDir()
	log := `{"request_id":"a","time":"2024-03-01T10:00:00Z","model":"glass","version":"v1","variant":"production","rows":3,"inputs_sha256":"x","predictions":[{"prediction":"1","prob_1":0.7,"prob_3":0.2,"prob_7":0.1},{"prediction":"3","prob_1":0.2,"prob_3":0.7,"prob_7":0.1},{"prediction":"7","prob_1":0.2,"prob_3":0.1,"prob_7":0.7}]}
`
	if err := os.WriteFile(filepath.Join(dir, "pred.log"), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	// Row 2's actual, 1, is not the predicted 7: a miss however written.
	if err := os.WriteFile(filepath.Join(dir, "actuals.csv"), []byte("request_id,row,actual\na,0,1.0\na,1,03\na,2,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := tabforge(t, dir, "monitor", "realised", "--log", filepath.Join(dir, "pred.log"), "--actuals", filepath.Join(dir, "actuals.csv"), "--json")
	if code != 0 {
		t.Fatalf("monitor realised: exit %d\n%s", code, stderr)
	}
	var r struct {
		Groups []struct {
			Rows    int
			Metrics map[string]float64
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Groups) != 1 || r.Groups[0].Rows != 3 || r.Groups[0].Metrics["accuracy"] != 2.0/3 {
		t.Errorf("monitor realised --json = %s; want one group of 3 rows, accuracy 2/3", out)
	}
}

// TestMonitorRealisedModelMissing: an actual is read as its model
// version read its training data: a model trained with missing_values
// ["?"], or with "?" for its target column only, has "?" as an outcome
// not known yet, left out and counted, as train leaves out such a
// target; "?" given to another column leaves it an actual, which is not
// a number. monitor realised used to read actuals with the default
// list, and stopped at "?".
func TestMonitorRealisedModelMissing(t *testing.T) {
	for _, tt := range []struct {
		name, missing string
		pending       bool // "?" is pending; else realised fails on it
	}{
		{"every column", `["?"]`, true},
		{"target", `{Sale_Price: ["?"]}`, true},
		{"another column", `{Lot_Area: ["?"]}`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			code, out, errs := tabforge(t, dir, "train", "--data", testdata("ames.csv"), "--target", "Sale_Price", "--models", "ridge", "--cv-folds", "0",
				"--out", filepath.Join(dir, "models"), "--set", "missing_values="+tt.missing, "--json")
			var res struct {
				ModelVersion string `json:"model_version"`
			}
			if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil {
				t.Fatalf("train: exit %d, %v\n%s", code, err, errs)
			}
			log := `{"request_id":"a","time":"2024-03-01T10:00:00Z","model":"ames","version":"` + res.ModelVersion + `","predictions":[100,200]}` + "\n"
			if err := os.WriteFile(filepath.Join(dir, "pred.log"), []byte(log), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "actuals.csv"), []byte("request_id,row,actual\na,0,?\na,1,210\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, errs = tabforge(t, dir, "monitor", "realised", "--log", filepath.Join(dir, "pred.log"), "--actuals", filepath.Join(dir, "actuals.csv"), "--json")
			if !tt.pending {
				if code == 0 {
					t.Errorf("monitor realised: exit 0, %s; want the actual \"?\" refused", out)
				}
				return
			}
			if code != 0 {
				t.Fatalf("monitor realised: exit %d\n%s", code, errs)
			}
			var r struct {
				Joined    int `json:"joined"`
				Unmatched int `json:"unmatched_actuals"`
				Pending   int `json:"pending_actuals"`
			}
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatal(err)
			}
			if r.Joined != 1 || r.Pending != 1 || r.Unmatched != 0 {
				t.Errorf("monitor realised --json = %s; want 1 joined, 1 pending, 0 unmatched", out)
			}
		})
	}
}

// TestMonitorRealisedWithoutStore: realised reads each version's
// missing_values from the store, but works from the log and the actuals
// alone where it can. The default store, absent, is neither created nor
// needed; broken, it is passed over: both warn (stderr and --json's
// warnings) and read actuals with the config's missing_values. A store
// set with --store that exists but cannot be opened is an error naming
// it. realised used to fail on any store it could not open, and to
// create the default one.
func TestMonitorRealisedWithoutStore(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // the default store is relative to the working directory
	log := `{"request_id":"a","time":"2024-03-01T10:00:00Z","model":"price","version":"v1","predictions":[10,20]}` + "\n"
	if err := os.WriteFile("pred.log", []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("actuals.csv", []byte("request_id,row,actual\na,0,11\na,1,NA\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	realised := func(extra ...string) (int, string, string) {
		var out, errb bytes.Buffer
		args := append([]string{"monitor", "realised", "--log", "pred.log", "--actuals", "actuals.csv", "--json"}, extra...)
		return run(context.Background(), args, &out, &errb), out.String(), errb.String()
	}
	check := func(name string) {
		t.Helper()
		code, out, errs := realised()
		var r struct {
			Joined   int      `json:"joined"`
			Pending  int      `json:"pending_actuals"`
			Warnings []string `json:"warnings"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &r) != nil {
			t.Fatalf("%s: exit %d\n%s%s", name, code, out, errs)
		}
		if r.Joined != 1 || r.Pending != 1 || len(r.Warnings) != 1 || !strings.Contains(errs, "warning: ") {
			t.Errorf("%s: %s\nstderr %s; want 1 joined, NA pending, and a warning", name, out, errs)
		}
	}
	check("no store")
	if _, err := os.Stat(filepath.Join(".tabforge", "tabforge.db")); err == nil {
		t.Error("realised created the default store")
	}
	if err := os.MkdirAll(".tabforge", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(".tabforge", "tabforge.db"), []byte("not a database\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	check("broken default store")
	code, _, errs := realised("--store", "sqlite://.tabforge/tabforge.db")
	if code != 1 || !strings.Contains(errs, "store sqlite://.tabforge/tabforge.db (set by --store)") {
		t.Errorf("a broken store set by --store: exit %d, %s; want exit 1 and an error naming it", code, errs)
	}
}
