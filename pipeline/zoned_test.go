package pipeline

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
)

// TestModelSavedBeforeOffsets loads a model saved before datetime offsets
// were kept and checks it predicts what it predicted then. The build of
// ddf8d11 made testdata/temporal_utc_v1.tfm with
//
//	tabforge train --data monthly_berlin.csv --target y --time-column date \
//	  --segment-column seg --profile production --models linear --cv-folds 2
//
// (monthly_berlin.csv: 3 segments × 48 months at 00:00 Europe/Berlin,
// +01:00 in winter and +02:00 in summer; y has a trend and a yearly
// cycle), and temporal_utc_v1_predictions.csv with tabforge predict on the
// same file. That build read the times in UTC (the last evening of the
// month before), in its temporal features and its design; the model must
// keep doing so, although tabforge now reads them in civil time.
func TestModelSavedBeforeOffsets(t *testing.T) {
	p, err := LoadPredictor(filepath.Join("testdata", "temporal_utc_v1.tfm"), Families())
	if err != nil {
		t.Fatal(err)
	}
	x, err := frame.ReadFile(filepath.Join("testdata", "monthly_berlin.csv"), frame.ReadOptions{Schema: p.ReadSchema()})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := x.Lookup("date"); c == nil || c.Offsets == nil {
		t.Fatal("monthly_berlin.csv read without offsets")
	}
	got, err := p.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	want := readRecords(t, filepath.Join("testdata", "temporal_utc_v1_predictions.csv"))[1:]
	if len(got.Values) != len(want) {
		t.Fatalf("%d predictions; want %d", len(got.Values), len(want))
	}
	for i, rec := range want {
		w, err := strconv.ParseFloat(rec[0], 64)
		if err != nil {
			t.Fatal(err)
		}
		if got.Values[i] != w {
			t.Fatalf("row %d: predicted %v; the build that saved the model predicted %v", i, got.Values[i], w)
		}
	}
}

// TestHoldoutZonedDates splits monthly data written at 00:00 Europe/Berlin
// by date: an as-of date and the temporal split's description read the
// dates as written, not in UTC, where 2021-01-01T00:00:00+01:00 is still
// 2020 (so January went to training) and March began on 28 February.
func TestHoldoutZonedDates(t *testing.T) {
	f, err := frame.ReadFile(filepath.Join("testdata", "monthly_berlin.csv"), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	times, err := timeKey(f, "date")
	if err != nil {
		t.Fatal(err)
	}
	kept := make([]int, f.NumRows())
	for i := range kept {
		kept[i] = i
	}
	tests := []struct {
		asOf     string
		fraction float64
		test     int    // test rows
		split    string // p.split
	}{
		// 3 segments × the 12 months of 2021
		{"2021-01-01", 0, 36, "as of 2021-01-01"},
		// an instant: 2021-01-01T00:00:00+01:00 is before it
		{"2021-01-01T00:00:00Z", 0, 33, "as of 2021-01-01T00:00:00Z"},
		// the last 20%: 3 segments × 10 months from March 2021
		{"", 0.2, 30, "temporal: last 20% by date (test from 2021-03-01)"},
	}
	for _, tt := range tests {
		p := &prepared{task: model.Regression}
		cfg := &config.Config{TimeColumn: "date", AsOf: tt.asOf, TestFraction: tt.fraction}
		h, err := p.holdout(f, cfg, kept, times)
		if err != nil {
			t.Fatalf("as of %q: %v", tt.asOf, err)
		}
		if len(h.Test) != tt.test || p.split != tt.split {
			t.Errorf("as of %q, fraction %g: %d test rows, %q; want %d, %q", tt.asOf, tt.fraction, len(h.Test), p.split, tt.test, tt.split)
		}
	}
}
