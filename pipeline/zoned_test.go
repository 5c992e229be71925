package pipeline

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/tabforge/tabforge/frame"
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
