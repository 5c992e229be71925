package pipeline

import (
	"math"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/tabforge/tabforge/frame"
)

// TestOldEnsembleSegments loads an ensemble with per-segment routes saved
// by the build of a137018 (envelope version 1, see testdata/compat's
// README for how it was made) and checks that it predicts, for the first
// 200 rows of credit_data, the labels that build predicted and its
// probabilities to the 8 significant digits it wrote them with.
func TestOldEnsembleSegments(t *testing.T) {
	dir := filepath.Join("..", "testdata", "compat")
	p, err := LoadPredictor(filepath.Join(dir, "credit_segments_ensemble_a137018.tfm"), Families())
	if err != nil {
		t.Fatal(err)
	}
	if p.Routes == nil || len(p.Members) == 0 {
		t.Fatalf("the fixture loaded without routes or members (routes %v, %d members)", p.Routes, len(p.Members))
	}
	x, err := frame.ReadFile(filepath.Join("..", "testdata", "credit_data.csv"), frame.ReadOptions{Schema: p.ReadSchema()})
	if err != nil {
		t.Fatal(err)
	}
	want := readRecords(t, filepath.Join(dir, "credit_segments_ensemble_a137018_predictions.csv"))
	if got := want[0]; len(got) != 3 || got[1] != "prob_good" || got[2] != "prob_bad" {
		t.Fatalf("predictions header %v; want prediction,prob_good,prob_bad", got)
	}
	want = want[1:]
	got, err := p.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	k := len(p.Target.Classes)
	for i, rec := range want {
		if got.Labels[i] != rec[0] {
			t.Fatalf("row %d: predicted %q; the build that saved the model predicted %q", i, got.Labels[i], rec[0])
		}
		for c := range 2 {
			w, err := strconv.ParseFloat(rec[1+c], 64)
			if err != nil {
				t.Fatal(err)
			}
			// 8 significant digits of a probability: within 5e-9.
			if g := got.Probs[i*k+c]; math.Abs(g-w) > 5e-9 {
				t.Fatalf("row %d: %s probability %v; the build that saved the model wrote %v", i, p.Target.Classes[c], g, w)
			}
		}
	}
}

// TestOldModelMinuteTimestamps loads a model the build of 81259cf saved
// when it read timestamps without seconds (1963-08-24 14:30) as text
// (testdata/compat's README says how): later builds read them as
// datetimes, and the model must still take them as its text levels,
// predict what that build predicted, and find its training data
// unchanged (ReadRecorded) for analysis, resume and workers.
func TestOldModelMinuteTimestamps(t *testing.T) {
	dir := filepath.Join("..", "testdata", "compat")
	data := filepath.Join(dir, "bundesliga_minutes.csv")
	p, err := LoadPredictor(filepath.Join(dir, "bundesliga_minutes_gbdt_81259cf.tfm"), Families())
	if err != nil {
		t.Fatal(err)
	}
	if k := p.ReadSchema()["Date"]; k != frame.Categorical {
		t.Fatalf("the fixture's Date input is %v; the build that saved it read it as categorical", k)
	}
	x, rep, err := p.ReadInput(data, frame.ReadOptions{})
	if err != nil || rep.Err(false) != nil {
		t.Fatalf("ReadInput: %v %v", err, rep.Err(false))
	}
	got, err := p.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	want := readRecords(t, filepath.Join(dir, "bundesliga_minutes_gbdt_81259cf_predictions.csv"))[1:]
	for i, rec := range want {
		w, err := strconv.ParseFloat(rec[0], 64)
		if err != nil {
			t.Fatal(err)
		}
		// Written in full (strconv's shortest form), so read back exactly.
		if g := got.Values[i]; g != w {
			t.Fatalf("row %d: predicted %v; the build that saved the model predicted %v", i, g, w)
		}
	}

	now, err := frame.ReadFile(data, frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := now.Lookup("Date"); c.Kind != frame.Datetime || now.Hash() == p.Dataset {
		t.Fatalf("this build reads Date as %v with the old hash %v; the test needs the reading to have changed", c.Kind, now.Hash() == p.Dataset)
	}
	old, err := ReadRecorded(data, frame.ReadOptions{}, p.Dataset)
	if err != nil {
		t.Fatal(err)
	}
	if h := old.Hash(); h != p.Dataset {
		t.Fatalf("ReadRecorded hashes %.12s; the run recorded %.12s", h, p.Dataset)
	}
	if other, err := ReadRecorded(data, frame.ReadOptions{}, "0123"); err != nil || other.Hash() != now.Hash() {
		t.Fatalf("ReadRecorded with another hash = %v, %v; want this build's reading", other.Hash(), err)
	}
}
