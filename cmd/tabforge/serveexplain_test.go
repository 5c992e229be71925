package main

import (
	"encoding/json"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeExplainMatchesCommand: serve's explain route gives a row the
// SHAP values tabforge explain gives it. A per-segment model is explained
// with KernelSHAP against a k-means summary of its training rows, which
// depends on the seed; serve seeded it with its traffic split's seed (1)
// and explain with the config's (42), so the same model and row had two
// base values (mpg routed by drv: 23.3589 against 23.3566).
func TestServeExplainMatchesCommand(t *testing.T) {
	dir := t.TempDir()
	bin := buildBinary(t, t.TempDir())
	code, out, errs := cli(t, dir, "train", "--data", testdata(filepath.Join("corpus", "ggplot2_mpg.csv")), "--target", "hwy",
		"--models", "ridge", "--segment-by", "drv", "--set", "min_segment_rows=10", "--cv-folds", "0", "--name", "mpg",
		"--out", filepath.Join(dir, "models"), "--set", "force_production_quality=false", "--json")
	var res struct {
		ModelVersion string `json:"model_version"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("train: %d %s %s", code, out, errs)
	}
	if code, out, errs := cli(t, dir, "models", "promote", res.ModelVersion, "--stage", "production"); code != 0 {
		t.Fatalf("promote: %d %s %s", code, out, errs)
	}
	recs := readCSV(t, testdata(filepath.Join("corpus", "ggplot2_mpg.csv")))[:3]
	rows := filepath.Join(dir, "rows.csv")
	writeCSVFile(t, rows, recs)
	code, out, errs = cli(t, dir, "explain", "--model", "mpg@production", "--data", rows, "--json")
	var cmdv struct {
		Method    string    `json:"method"`
		BaseValue []float64 `json:"base_value"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &cmdv) != nil || len(cmdv.BaseValue) != 1 {
		t.Fatalf("explain: %d %s %s", code, out, errs)
	}
	if cmdv.Method != "kernel" {
		t.Fatalf("setup: explain method %s; want kernel, whose background depends on the seed", cmdv.Method)
	}

	_, url := startServe(t, bin, "--store", "sqlite://"+filepath.Join(dir, "tf.db"), "--set", "artifacts="+filepath.Join(dir, "artifacts"))
	var body strings.Builder
	for _, r := range recs {
		body.WriteString(strings.Join(r, ",") + "\n")
	}
	resp, err := http.Post(url+"/v1/models/mpg/explain", "text/csv", strings.NewReader(body.String()))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Method    string    `json:"method"`
		BaseValue []float64 `json:"base_value"`
	}
	err = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || len(got.BaseValue) != 1 {
		t.Fatalf("serve explain: %d, %+v, %v", resp.StatusCode, got, err)
	}
	if got.Method != cmdv.Method || math.Abs(got.BaseValue[0]-cmdv.BaseValue[0]) > 1e-9 {
		t.Errorf("serve explains with %s, base value %v; tabforge explain with %s, %v", got.Method, got.BaseValue[0], cmdv.Method, cmdv.BaseValue[0])
	}
}
