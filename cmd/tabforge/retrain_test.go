package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
	// Nothing is scored on no new data: the scores are null, not 0 (an r2).
	if d := retrain(after); d["decision"] != "keep" || d["reason"] != "no new data" || d["champion_score"] != nil || d["challenger_score"] != nil {
		t.Errorf("retrain on the same file: %v; want keep, no new data, null scores", d)
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

// TestRetrainNewClass: the newest rows of the new data bring a class the
// champion never learnt. Retrain cannot score the champion there and
// says so, naming the row of the file that holds it; it named the row
// among the held-out newest rows (row 54 of a file whose 54th row is an
// Adelie penguin) and gave no way forward.
func TestRetrainNewClass(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(testdata("corpus/palmerpenguins_penguins.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(src), "\n"), "\n")
	if len(lines) != 345 { // the header and 344 penguins
		t.Fatalf("penguins has %d lines; want 345", len(lines))
	}
	champData := filepath.Join(dir, "penguins.csv")
	if err := os.WriteFile(champData, src, 0o644); err != nil {
		t.Fatal(err)
	}
	// 20 more penguins, the last 20 relabelled, after the others: data
	// rows 345 to 364, all among the newest 20% (rows 292 on).
	news := slices.Clone(lines)
	for _, l := range lines[len(lines)-20:] {
		_, rest, _ := strings.Cut(l, ",")
		news = append(news, `"Emperor, new",`+rest)
	}
	newData := filepath.Join(dir, "penguins_new.csv")
	if err := os.WriteFile(newData, []byte(strings.Join(news, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := tabforge(t, dir, "train", "--data", champData, "--target", "species", "--models", "logistic",
		"--cv-folds", "0", "--name", "penguins", "--out", filepath.Join(dir, "runs")); code != 0 {
		t.Fatalf("train: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := tabforge(t, dir, "models", "promote", "penguins@latest", "--stage", "production"); code != 0 {
		t.Fatalf("promote: exit %d\n%s", code, stderr)
	}
	code, _, stderr := tabforge(t, dir, "retrain", "--name", "penguins", "--data", newData, "--dir", filepath.Join(dir, "continuous"))
	want := fmt.Sprintf(`on %s: target column "species", row 345: class "Emperor, new" was not seen in training`, newData)
	if code != 1 || !strings.Contains(stderr, want) || !strings.Contains(stderr, "tabforge train") {
		t.Errorf("retrain with a new class: exit %d\n%s\nwant exit 1 and %q with a way forward", code, stderr, want)
	}
}
