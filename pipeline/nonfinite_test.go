package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/tune"
)

// TestPredictOverflowingInput: a value so large (1e308) that encoding it
// for a linear model overflows its standardised feature to +Inf (x lies
// in [0, 1), so its standard deviation is below 1) is the input's fault.
// Predict reported the linear model's own refusal ("linear: predict: row
// 0: infinite value in feature"), counting rows from 0 within a block and
// calling infinite a number the user gave finite, so serve answered 500;
// it must be a NonFiniteError naming the row of the whole batch.
func TestPredictOverflowingInput(t *testing.T) {
	var b strings.Builder
	b.WriteString("x,z,y,label\n")
	for i := range 120 {
		x := float64(i%40) / 40
		fmt.Fprintf(&b, "%g,%d,%g,%s\n", x, i%7, 3*x+float64(i%7), []string{"no", "yes"}[btoi(x+float64(i%3)/4 > 0.7)])
	}
	data := filepath.Join(t.TempDir(), "d.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	const bad = 3 // 0-based row given the huge value
	in := frame.MustNew(frame.NewNumeric("x", []float64{0.1, 0.2, 0.3, 1e308, 0.5}), frame.NewNumeric("z", []float64{1, 2, 3, 4, 5}))
	for _, c := range []struct{ family, target string }{{"ols", "y"}, {"ridge", "y"}, {"logistic", "label"}} {
		t.Run(c.family, func(t *testing.T) {
			cfg := config.Default()
			cfg.Data, cfg.Target, cfg.Models, cfg.CVFolds, cfg.Out = data, c.target, []string{c.family}, 0, t.TempDir()
			cfg.Drop = []string{map[string]string{"y": "label", "label": "y"}[c.target]}
			cfg.ForceProductionQuality = false
			_, p := trainSaved(t, cfg)
			_, err := p.Predict(in)
			var nf *NonFiniteError
			if !errors.As(err, &nf) {
				t.Fatalf("Predict with x = 1e308: %v; want a NonFiniteError", err)
			}
			if nf.Row != bad || nf.Feature == "" {
				t.Errorf("NonFiniteError{Row: %d, Feature: %q}; want row %d and the feature named", nf.Row, nf.Feature, bad)
			}
		})
	}
}

// TestPredictOverflowingRoutedRow: with one model per segment, each
// segment's rows are predicted as a batch of their own, and the
// NonFiniteError named the bad row's place in its segment (row 3 of the
// input below is the second row of segment b) instead of its row in the
// input.
func TestPredictOverflowingRoutedRow(t *testing.T) {
	var b strings.Builder
	b.WriteString("x,z,seg,y\n")
	for i := range 120 {
		x := float64(i%40) / 40
		fmt.Fprintf(&b, "%g,%d,%s,%g\n", x, i%7, []string{"a", "b"}[i%2], 3*x+float64(i%7)+float64(i%2))
	}
	data := filepath.Join(t.TempDir(), "d.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Models, cfg.CVFolds, cfg.Out = data, "y", []string{"ols"}, 0, t.TempDir()
	cfg.SegmentBy, cfg.MinSegmentRows, cfg.ForceProductionQuality = "seg", 20, false
	_, p := trainSaved(t, cfg)
	if p.Routes == nil || len(p.Routes.Models) != 2 {
		t.Fatalf("saved artifact routes %v; want a model for each of segments a and b", p.Routes)
	}
	const bad = 3 // 0-based input row given the huge value; segment b holds rows 1, 3, 4
	in := frame.MustNew(
		frame.NewNumeric("x", []float64{0.1, 0.2, 0.3, 1e308, 0.5}),
		frame.NewNumeric("z", []float64{1, 2, 3, 4, 5}),
		frame.NewCategoricalFromStrings("seg", []string{"a", "b", "a", "b", "b"}),
	)
	_, err := p.Predict(in)
	var nf *NonFiniteError
	if !errors.As(err, &nf) {
		t.Fatalf("Predict with x = 1e308: %v; want a NonFiniteError", err)
	}
	if nf.Row != bad || !strings.Contains(err.Error(), fmt.Sprintf("row %d:", bad+1)) {
		t.Errorf("Predict = %v (Row %d); want input row %d (%d in messages)", err, nf.Row, bad, bad+1)
	}
}

// TestTuningUndefinedCV: a study whose CV metric is undefined on every
// trial (four training rows in four folds: r2 of one row) fails, and the
// error says why once. It read "tune tree: tune: trial 0: trial 0: no CV
// r2": the trial named twice and the cause left to guess.
//
// A rerun resumes the stored studies, whose trials all failed: it must
// sample again and fail the same way. The failed trials used to fill the
// budget, so the rerun ran none, "succeeded" with the family defaults and
// blamed the time budget ("no trial completed within the budget").
func TestTuningUndefinedCV(t *testing.T) {
	data := filepath.Join(t.TempDir(), "five.csv")
	if err := os.WriteFile(data, []byte("x,y\n1,2\n2,5\n3,4\n4,9\n5,7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Models, cfg.CVFolds, cfg.Out = data, "y", []string{"tree"}, 4, t.TempDir()
	cfg.EnableHyperparameterTuning, cfg.MaxEvals = true, 2
	studies := &tune.Memory{}
	for run, trial := range []string{"trial 0", "trial 2"} { // the rerun's first trial is the study's third
		_, err := Train(context.Background(), cfg, Options{Studies: studies})
		if err == nil || strings.Count(err.Error(), trial) != 1 || !strings.Contains(err.Error(), "undefined") {
			t.Errorf("run %d: Train = %v; want one %q and the CV r2 called undefined", run+1, err, trial)
		}
	}
}

// TestUndefinedCVLogged: a CV metric undefined on every fold (r2 of
// one-row folds) is dropped from the CV means; the "candidate done" log
// line printed the missing value as cv_r2=0, a plausible score, where
// the leaderboard shows "-".
func TestUndefinedCVLogged(t *testing.T) {
	data := filepath.Join(t.TempDir(), "five.csv")
	if err := os.WriteFile(data, []byte("x,y\n1,2\n2,5\n3,4\n4,9\n5,7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Models, cfg.CVFolds, cfg.Out = data, "y", []string{"tree"}, 4, t.TempDir()
	cfg.ForceProductionQuality = false
	var logs strings.Builder
	if _, err := Train(context.Background(), cfg, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "cv_r2=NaN") {
		t.Errorf("logs %q; want cv_r2=NaN on the candidate done line", logs.String())
	}
}
