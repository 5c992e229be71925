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
