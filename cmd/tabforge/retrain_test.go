package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/synth"
)

// TestRetrainCommand trains a champion on a year of synthetic orders,
// promotes it, and retrains on data running half a year into a market
// shift: the challenger is promoted, and a second retrain on the same
// file keeps it.
func TestRetrainCommand(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	f, old, all := salesSplit(t, 18_000, 7, at)
	before, after := writeRows(t, dir, "sales_2022.csv", f, old), writeRows(t, dir, "sales.csv", f, all)
	code, _, stderr := tabforge(t, dir, "train", "--data", before, "--target", "order_quantity", "--time-column", "order_date",
		"--drop", "order_number,procured_date,ship_date,delivery_date", "--models", "gbdt", "--cv-folds", "0", "--name", "sales",
		"--set", "min_r2_threshold=0", "--set", "min_business_accuracy=0", "--out", filepath.Join(dir, "runs"))
	if code != 0 {
		t.Fatalf("train: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := tabforge(t, dir, "models", "promote", "sales@latest", "--stage", "production"); code != 0 {
		t.Fatalf("promote: exit %d\n%s", code, stderr)
	}
	retrain := func(data string) map[string]any {
		t.Helper()
		code, out, stderr := tabforge(t, dir, "retrain", "--name", "sales", "--data", data, "--dir", filepath.Join(dir, "continuous"), "--json")
		if code != 0 {
			t.Fatalf("retrain: exit %d\n%s", code, stderr)
		}
		var d map[string]any
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("retrain --json: %v\n%s", err, out)
		}
		return d
	}
	d := retrain(after)
	for _, k := range []string{"decision", "reason", "champion_version", "challenger_version", "champion_score", "challenger_score", "drift"} {
		if _, ok := d[k]; !ok {
			t.Errorf("retrain --json lacks %q: %v", k, d)
		}
	}
	if d["decision"] != "promote" {
		t.Fatalf("retrain after the shift: %v; want promote", d)
	}
	if d := retrain(after); d["decision"] != "keep" || d["reason"] != "no new data" {
		t.Errorf("retrain on the same file: %v; want keep, no new data", d)
	}
	code, out, _ := tabforge(t, dir, "models", "history", "sales")
	if code != 0 || !strings.Contains(out, "retrain:") {
		t.Errorf("history after a retrain lacks its promotion:\n%s", out)
	}
	if code, _, stderr := tabforge(t, dir, "retrain", "--name", "sales"); code != 2 || !strings.Contains(stderr, "--data") {
		t.Errorf("retrain without --data: exit %d, %s", code, stderr)
	}
}

// salesSplit generates seeded sales orders with a shift at at and returns
// them with the positions of the orders before the shift and of all.
func salesSplit(t *testing.T, rows int, seed uint64, at time.Time) (f *frame.Frame, old, all []int) {
	t.Helper()
	f, err := synth.Sales(context.Background(), synth.SalesParams{Rows: rows, Seed: seed, Months: 18, DriftAt: at})
	if err != nil {
		t.Fatal(err)
	}
	ord, _ := f.Lookup("order_date")
	for i, v := range ord.Num {
		all = append(all, i)
		if v < float64(at.Unix()) {
			old = append(old, i)
		}
	}
	return f, old, all
}
