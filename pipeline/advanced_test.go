package pipeline

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
)

// TestAdvancedNoiseTarget is the leakage check of issue 4: on a panel whose
// target is pure noise, every advanced stage on, the holdout R² must stay
// near zero. A leaking target encoding or same-period lag would score.
func TestAdvancedNoiseTarget(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 11))
	var b strings.Builder
	b.WriteString("date,city,x1,x2,y\n")
	for c := range 30 {
		for m := range 48 {
			fmt.Fprintf(&b, "%04d-%02d-01,c%02d,%.4f,%.4f,%.4f\n", 2010+m/12, m%12+1, c, rng.NormFloat64(), rng.Float64(), rng.NormFloat64()*10+100)
		}
	}
	data := filepath.Join(dir, "noise.csv")
	os.WriteFile(data, []byte(b.String()), 0o644)
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.TimeColumn, cfg.SegmentColumn = data, "y", "date", "city"
	cfg.EnableAdvancedFeatures, cfg.EnableInteractionFeatures = true, true
	cfg.Models, cfg.CVFolds, cfg.ForceProductionQuality, cfg.Out = []string{"ridge", "gbdt"}, 3, false, dir
	res, err := Train(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Stages, []string{"temporal", "market", "interaction"}) {
		t.Fatalf("stages = %v; want all three", res.Stages)
	}
	for _, e := range res.Leaderboard {
		if r2 := e.Test["r2"]; r2 > 0.02 {
			t.Errorf("%s: holdout R² %.4f on a pure-noise target; want <= 0.02 (leakage)", e.Model, r2)
		}
		if r2 := e.CV["r2"]; r2 > 0.02 {
			t.Errorf("%s: CV R² %.4f on a pure-noise target; want <= 0.02 (leakage)", e.Model, r2)
		}
	}
}

// TestAdvancedPredictorReproduces trains txhousing with lag features and
// checks the saved model, applied to the raw file, reproduces the test
// metrics the run reported: the fitted stages travel with the model.
func TestAdvancedPredictorReproduces(t *testing.T) {
	td := filepath.Join("..", "testdata")
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.TimeColumn, cfg.SegmentColumn = filepath.Join(td, "txhousing.csv"), "median", "date", "city"
	cfg.Drop, cfg.EnableAdvancedFeatures, cfg.CompareBasicFeatures = []string{"volume"}, true, false
	cfg.Models, cfg.CVFolds, cfg.ForceProductionQuality, cfg.Out = []string{"ridge"}, 0, false, t.TempDir()
	res, err := Train(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	basic := *cfg
	basic.EnableAdvancedFeatures = false
	base, err := Train(context.Background(), &basic, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, want := res.Leaderboard[0].Test["r2"], base.Leaderboard[0].Test["r2"]
	t.Logf("txhousing ridge test R²: basic %.4f, advanced %.4f", want, got)
	if got <= want {
		t.Errorf("advanced features R² %.4f does not beat basic %.4f", got, want)
	}
	p, err := LoadPredictor(res.ModelPath, Families())
	if err != nil {
		t.Fatal(err)
	}
	f, err := frame.ReadFile(cfg.Data, frame.ReadOptions{Schema: p.ReadSchema()})
	if err != nil {
		t.Fatal(err)
	}
	date, _ := f.Lookup("date")
	median, _ := f.Lookup("median")
	var rows []int
	for i := range f.NumRows() {
		if !median.IsMissing(i) && date.Num[i] >= 1346457600 { // 2012-09-01, the split's cutoff
			rows = append(rows, i)
		}
	}
	m, n, err := Evaluate(p, f.Take(rows))
	if err != nil {
		t.Fatal(err)
	}
	if n != res.TestRows || m["r2"]-got > 1e-9 || got-m["r2"] > 1e-9 {
		t.Errorf("saved model on the test rows: R² %.6f over %d rows; run reported %.6f over %d", m["r2"], n, got, res.TestRows)
	}
}

// TestHorizonCountsGridPeriods: Texas housing's test part is its last
// months; one sale recorded on 2014-03-17 instead of 2014-03-01 is a
// stray in March 2014, a month the test part already holds, so the
// forecast horizon of the temporal features stays the test part's
// number of months. It counted the stray as one more period.
func TestHorizonCountsGridPeriods(t *testing.T) {
	clean := filepath.Join("..", "testdata", "txhousing.csv")
	b, err := os.ReadFile(clean)
	if err != nil {
		t.Fatal(err)
	}
	const line = `"Abilene",2014,3,165,21615979,112400,929,5.1,"2014-03-01"`
	if !strings.Contains(string(b), line) {
		t.Fatalf("setup: %s has no line %s", clean, line)
	}
	stray := filepath.Join(t.TempDir(), "txhousing_stray.csv")
	if err := os.WriteFile(stray, []byte(strings.Replace(string(b), line, strings.Replace(line, "2014-03-01", "2014-03-17", 1), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	horizon := func(data string) (h, months int) {
		cfg := config.Default()
		cfg.Data, cfg.Target, cfg.TimeColumn, cfg.SegmentColumn, cfg.CVFolds = data, "median", "date", "city", 0
		f, err := frame.ReadFile(data, ReadOptions(cfg))
		if err != nil {
			t.Fatal(err)
		}
		p, err := prepare(f, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		date, _ := p.x.Lookup("date")
		seen := map[string]bool{}
		for _, r := range p.test {
			seen[time.Unix(int64(date.Num[r]), 0).UTC().Format("2006-01")] = true
		}
		return p.horizon(cfg), len(seen)
	}
	hClean, months := horizon(clean)
	if hClean != months || months < 2 {
		t.Fatalf("horizon of %s = %d; want its %d test months", clean, hClean, months)
	}
	if h, m := horizon(stray); h != hClean || m != months {
		t.Errorf("horizon with one stray time in the test part = %d (%d test months); want %d, the test part's months", h, m, hClean)
	}
}
