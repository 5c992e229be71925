package serve

import (
	"context"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/pipeline"
)

// TestOldModelMinuteTimestampsServe serves a model the build of 81259cf
// saved when it read timestamps without seconds (1963-08-24 14:30) as
// text (testdata/compat's README), which this build reads as datetimes:
// every request format must still give the model its text levels and
// the predictions that build's `tabforge predict` wrote.
func TestOldModelMinuteTimestampsServe(t *testing.T) {
	dir := testdata("compat")
	tfm := filepath.Join(dir, "bundesliga_minutes_gbdt_81259cf.tfm")
	p, err := pipeline.LoadPredictor(tfm, pipeline.Families())
	if err != nil {
		t.Fatal(err)
	}
	reg, arts := newRegistry(t)
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Name = filepath.Join(dir, "bundesliga_minutes.csv"), "HomeGoals", "bundesliga"
	res := &pipeline.Result{RunID: p.RunID, DatasetHash: p.Dataset, Task: p.Target.Task, Target: "HomeGoals", Best: "gbdt", ModelPath: tfm}
	m, _, err := pipeline.Register(context.Background(), reg, arts, cfg, res, "compat-test")
	if err != nil {
		t.Fatal(err)
	}
	promote(t, reg, m.Version)
	f := start(t, reg, Options{})

	const n = 40
	header, rows := csvRows(t, "compat/bundesliga_minutes.csv", n)
	header, rows = withoutColumn(header, rows, "HomeGoals")
	want := &pipeline.Prediction{}
	_, preds := csvRows(t, "compat/bundesliga_minutes_gbdt_81259cf_predictions.csv", n)
	for _, rec := range preds {
		v, err := strconv.ParseFloat(rec[0], 64)
		if err != nil {
			t.Fatal(err)
		}
		want.Values = append(want.Values, v)
	}
	for format, body := range mlflowBodies(header, rows) {
		ct := "application/json"
		if format == "csv" {
			ct = "text/csv"
		}
		code, out, _ := f.post("/invocations", ct, body)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", format, code, out)
		}
		checkMLflow(t, format, p, want, out)
	}
	code, out, _ := f.postJSON("/v2/models/bundesliga/infer", v2Body(header, rows))
	if code != http.StatusOK {
		t.Fatalf("v2: %d %s", code, out)
	}
	checkV2(t, p, want, m.Version, out)
}

// withoutColumn returns header and rows without the column name.
func withoutColumn(header []string, rows [][]string, name string) ([]string, [][]string) {
	j := -1
	for i, h := range header {
		if h == name {
			j = i
		}
	}
	if j < 0 {
		return header, rows
	}
	drop := func(r []string) []string { return append(append([]string(nil), r[:j]...), r[j+1:]...) }
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = drop(r)
	}
	return drop(header), out
}
