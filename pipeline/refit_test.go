package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
)

// TestRefitAll trains on Texas housing whose newest month has a city no
// earlier month has ("Newtown", Abilene renamed in July 2015). The
// temporal holdout holds that month out, so the model fitted on the
// training rows never sees Newtown; with refit_all the saved model is
// fitted on every row and knows it, while its recorded metrics remain
// those of the fit on the training rows, which is saved beside it.
func TestRefitAll(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "txhousing.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	renamed := 0
	for i, l := range lines {
		if strings.HasPrefix(l, `"Abilene",2015,7,`) {
			lines[i], renamed = strings.Replace(l, "Abilene", "Newtown", 1), renamed+1
		}
	}
	if renamed != 1 {
		t.Fatalf("renamed %d rows; want the one of Abilene in July 2015", renamed)
	}
	data := filepath.Join(t.TempDir(), "txhousing.csv")
	if err := os.WriteFile(data, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, refit := range []bool{false, true} {
		cfg := config.Default()
		cfg.Data, cfg.Target, cfg.TimeColumn, cfg.Drop = data, "median", "date", []string{"volume"}
		cfg.Models, cfg.CVFolds, cfg.Out, cfg.RefitAll = []string{"ridge"}, 0, t.TempDir(), refit
		cfg.MinR2Threshold = 0 // ridge on this split: r2 0.73, below the default gate
		res, err := Train(context.Background(), cfg, Options{})
		if err != nil {
			t.Fatal(err)
		}
		saved, err := LoadPredictor(res.ModelPath, Families())
		if err != nil {
			t.Fatal(err)
		}
		if got := knows(saved, "city", "Newtown"); got != refit {
			t.Errorf("refit_all %v: the saved model knows Newtown: %v; want %v", refit, got, refit)
		}
		if !refit {
			if res.RefitRows != 0 || res.HoldoutModelPath != "" {
				t.Errorf("without refit_all: refit rows %d, holdout model %q; want none", res.RefitRows, res.HoldoutModelPath)
			}
			continue
		}
		if res.RefitRows != res.TrainRows+res.TestRows {
			t.Errorf("refit on %d rows; want the %d training and %d test rows", res.RefitRows, res.TrainRows, res.TestRows)
		}
		held, err := LoadPredictor(res.HoldoutModelPath, Families())
		if err != nil {
			t.Fatal(err)
		}
		if knows(held, "city", "Newtown") {
			t.Error("the model fitted on the training rows knows Newtown, which only the test rows have")
		}
		if r2 := res.Leaderboard[0].Test["r2"]; saved.Metrics["r2"] != r2 || held.Metrics["r2"] != r2 {
			t.Errorf("recorded r2: saved %v, held-out %v; want the test r2 %v of the fit on the training rows", saved.Metrics["r2"], held.Metrics["r2"], r2)
		}
	}
}

// knows reports whether p's input schema has level among column's.
func knows(p *Predictor, column, level string) bool {
	for _, f := range p.Schema {
		if f.Name == column {
			return slices.Contains(f.Levels, level)
		}
	}
	return false
}
