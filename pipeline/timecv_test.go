package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/split"
)

// TestTimeOrderedCVStopsInterpolation trains on a random walk observed by
// 4 stores over 300 periods, with a feature that reads the future through
// time itself: the period number. Shuffled folds put each validation
// period between training periods, so a tree interpolates the walk and
// scores near-perfect CV; the real task, predicting later periods, is
// far harder. With a time column, cv auto must be time-ordered, and the
// tree's CV score must show it.
func TestTimeOrderedCVStopsInterpolation(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	var b strings.Builder
	b.WriteString("period,store,noise,y\n")
	level := 0.0
	for period := range 300 {
		level += rng.NormFloat64()
		for store := range 4 {
			fmt.Fprintf(&b, "%d,s%d,%.4f,%.4f\n", period, store, rng.NormFloat64(), level+float64(store)+0.1*rng.NormFloat64())
		}
	}
	data := filepath.Join(t.TempDir(), "walk.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cvR2 := func(method config.CVMethod) (float64, string) {
		cfg := config.Default()
		cfg.Data, cfg.Target, cfg.TimeColumn, cfg.Out = data, "y", "period", t.TempDir()
		cfg.Models, cfg.CVFolds, cfg.CV = []string{"tree"}, 4, method
		cfg.EnableTemporalFeatures, cfg.EnableMarketFeatures = false, false
		res, err := Train(context.Background(), cfg, Options{})
		var gateErr *GateError
		if err != nil && !errors.As(err, &gateErr) { // the walk's future is hard: gates may fail
			t.Fatal(err)
		}
		return res.Leaderboard[0].CV["r2"], res.CV
	}
	auto, how := cvR2(config.CVAuto)
	if !strings.HasPrefix(how, "timeseries:") || !strings.Contains(how, "period") {
		t.Errorf("cv auto with a time column made %q; want time-series folds by period", how)
	}
	shuffled, _ := cvR2(config.CVKFold)
	if shuffled < 0.9 {
		t.Fatalf("shuffled CV r2 = %.3f: the interpolation this test guards against did not happen", shuffled)
	}
	if auto > shuffled-0.3 {
		t.Errorf("time-ordered CV r2 = %.3f, shuffled %.3f: the time-ordered folds still reward interpolation", auto, shuffled)
	}
}

// TestCVSchemes checks each scheme's folds on real data: time-series folds
// (with a gap) validate strictly after their training times, and group
// folds never put one segment on both sides.
func TestCVSchemes(t *testing.T) {
	data := filepath.Join("..", "testdata", "txhousing.csv")
	tests := []struct {
		name  string
		edit  func(*config.Config)
		check func(t *testing.T, p *prepared)
	}{
		{"timeseries with gap", func(c *config.Config) { c.TimeColumn, c.CVGap = "date", 2 }, func(t *testing.T, p *prepared) {
			for i, f := range p.folds {
				last, first := -1.0, 1e300
				for _, r := range f.Train {
					last = max(last, p.times[p.train[r]])
				}
				for _, r := range f.Test {
					first = min(first, p.times[p.train[r]])
				}
				between := map[float64]bool{}
				for _, r := range p.train {
					if v := p.times[r]; v > last && v < first {
						between[v] = true
					}
				}
				if !(last < first) || len(between) != 2 {
					t.Errorf("fold %d: trains to %v, validates from %v, %d times between; want 2", i, last, first, len(between))
				}
			}
		}},
		{"group by city", func(c *config.Config) { c.SegmentColumn, c.CV = "city", config.CVGroup }, func(t *testing.T, p *prepared) {
			col, _ := p.x.Lookup("city")
			for i, f := range p.folds {
				seen := map[string]bool{}
				for _, r := range f.Train {
					seen[SegmentLabel(col, p.train[r])] = true
				}
				for _, r := range f.Test {
					if seen[SegmentLabel(col, p.train[r])] {
						t.Fatalf("fold %d: city %s on both sides", i, SegmentLabel(col, p.train[r]))
					}
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Data, cfg.Target, cfg.CVFolds = data, "sales", 4
			tt.edit(cfg)
			f, err := frame.ReadFile(data, ReadOptions(cfg))
			if err != nil {
				t.Fatal(err)
			}
			p, err := prepare(f, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			if len(p.folds) != 4 {
				t.Fatalf("%d folds (%s), want 4", len(p.folds), p.cv)
			}
			tt.check(t, p)
		})
	}
}

// TestRankOnCommonFolds: an entry scored on fewer folds is compared with
// the others on the folds they share, not on its own mean against theirs.
func TestRankOnCommonFolds(t *testing.T) {
	nan := math.NaN()
	lb := []Entry{
		// a's mean over all folds is dragged down by fold 1, which the
		// ensemble never faced; on folds 2-3, a is better.
		{Model: "a", CV: eval.Metrics{"r2": 0.70}, foldScores: []float64{0.30, 0.90, 0.90}},
		{Model: "ens", CV: eval.Metrics{"r2": 0.85}, foldScores: []float64{nan, 0.85, 0.85}},
		{Model: "b", CV: eval.Metrics{"r2": 0.60}, foldScores: []float64{0.60, 0.60, 0.60}},
		{Model: "failed", Error: "boom"},
	}
	if folds := scoreOnCommonFolds(lb); !slices.Equal(folds, []int{2, 3}) {
		t.Errorf("ranked on folds %v, want [2 3]", folds)
	}
	for _, e := range lb {
		want := map[string]float64{"a": 0.90, "ens": 0.85, "b": 0.60}[e.Model]
		if got := e.CVRanked; (got == nil) != (e.Error != "") || (got != nil && math.Abs(*got-want) > 1e-12) {
			t.Errorf("%s: CVRanked %v, want %v", e.Model, got, want)
		}
	}
	rank(lb, "r2")
	var order []string
	for _, e := range lb {
		order = append(order, e.Model)
	}
	if want := []string{"a", "ens", "b", "failed"}; !slices.Equal(order, want) {
		t.Errorf("ranked %v, want %v", order, want)
	}
	// All entries on all folds: the plain CV means decide.
	lb = []Entry{
		{Model: "a", CV: eval.Metrics{"r2": 0.70}, foldScores: []float64{0.30, 0.90, 0.90}},
		{Model: "b", CV: eval.Metrics{"r2": 0.75}, foldScores: []float64{0.75, 0.75, 0.75}},
	}
	if folds := scoreOnCommonFolds(lb); folds != nil || lb[0].CVRanked != nil {
		t.Errorf("with every fold scored: ranked on folds %v, CVRanked %v; want neither", folds, lb[0].CVRanked)
	}
	if rank(lb, "r2"); lb[0].Model != "b" {
		t.Errorf("with every fold scored, %s leads; want b", lb[0].Model)
	}
}

// TestFewTimes: yearly data with a handful of years cannot hold 5
// time-ordered folds. With 4 years (3 in training) the folds shrink to
// 2; with 3 years cv auto falls back to shuffled folds and an explicit
// timeseries is an error naming the times.
func TestFewTimes(t *testing.T) {
	prep := func(years int, cv config.CVMethod) (*prepared, error) {
		var b strings.Builder
		b.WriteString("year,x,y\n")
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range 400 {
			fmt.Fprintf(&b, "%d,%.3f,%.3f\n", 2001+i%years, rng.Float64(), rng.Float64())
		}
		data := filepath.Join(t.TempDir(), "years.csv")
		if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := config.Default()
		cfg.Data, cfg.Target, cfg.TimeColumn, cfg.CV = data, "y", "year", cv
		f, err := frame.ReadFile(data, ReadOptions(cfg))
		if err != nil {
			t.Fatal(err)
		}
		return prepare(f, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	p, err := prep(4, config.CVAuto)
	if err != nil || len(p.folds) != 2 || !strings.HasPrefix(p.cv, "timeseries: 2") {
		t.Errorf("4 years: err %v, %d folds (%s); want 2 time-ordered folds", err, len(p.folds), p.cv)
	}
	p, err = prep(3, config.CVAuto)
	if err != nil || len(p.folds) != 5 || !strings.HasPrefix(p.cv, "kfold") {
		t.Errorf("3 years, cv auto: err %v, %d folds (%s); want 5 shuffled folds", err, len(p.folds), p.cv)
	}
	if _, err = prep(3, config.CVTimeSeries); err == nil || !strings.Contains(err.Error(), "distinct times") {
		t.Errorf("3 years, cv timeseries: err %v; want one about distinct times", err)
	}
}

// TestConcentratedTimes: enough distinct years, but most rows in one, so
// equal-size time blocks collapse at its ties (GSS7402 of the meta
// corpus). cv auto still prepares folds (fewer time-ordered ones, or
// shuffled ones) and says which; each time-ordered fold validates after
// its training rows.
func TestConcentratedTimes(t *testing.T) {
	var b strings.Builder
	b.WriteString("year,x,y\n")
	rng := rand.New(rand.NewPCG(3, 4))
	for y := 2001; y <= 2012; y++ {
		n := 20
		if y == 2003 {
			n = 600
		}
		for range n {
			fmt.Fprintf(&b, "%d,%.3f,%.3f\n", y, rng.Float64(), rng.Float64())
		}
	}
	data := filepath.Join(t.TempDir(), "concentrated.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.TimeColumn = data, "y", "year"
	f, err := frame.ReadFile(data, ReadOptions(cfg))
	if err != nil {
		t.Fatal(err)
	}
	p, err := prepare(f, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("cv auto on concentrated times: %v", err)
	}
	if len(p.folds) < 2 || !strings.Contains(p.cv, "concentrated") {
		t.Errorf("%d folds (%s); want at least 2, the description naming the concentrated times", len(p.folds), p.cv)
	}
	if strings.HasPrefix(p.cv, "timeseries") {
		for i, fold := range p.folds {
			if slices.Max(split.Take(p.times, split.Take(p.train, fold.Train))) >= slices.Min(split.Take(p.times, split.Take(p.train, fold.Test))) {
				t.Errorf("fold %d validates on times not after its training times", i+1)
			}
		}
	}
}

// TestMissingTimes: rows without a time (the Bundesliga table of the meta
// corpus has two) cannot be ordered, so they are dropped like rows
// without a target, in one time column and in a pair of them; the rest
// is split and folded in time order. With no time at all it is an error
// naming both columns.
func TestMissingTimes(t *testing.T) {
	write := func(name string, rows func(i int) string) string {
		var b strings.Builder
		b.WriteString("year,month,x,y\n")
		for i := range 300 {
			b.WriteString(rows(i) + "\n")
		}
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	rng := rand.New(rand.NewPCG(5, 6))
	gaps := write("gaps.csv", func(i int) string {
		year, month := fmt.Sprint(2000+i/24), fmt.Sprint(1+i%12)
		switch i {
		case 7, 150:
			year = ""
		case 220:
			month = ""
		}
		return fmt.Sprintf("%s,%s,%.3f,%.3f", year, month, rng.Float64(), rng.Float64())
	})
	none := write("none.csv", func(i int) string { return fmt.Sprintf(",,%.3f,%.3f", rng.Float64(), rng.Float64()) })
	tests := []struct {
		data, timeColumn string
		wantRows         int
		wantErr          string
	}{
		{gaps, "year", 298, ""},
		{gaps, "year,month", 297, ""},
		// The error left the user to find which was missing.
		{none, "year", 0, `no row has both a target ("y") and a time ("year"): the time column year is missing on every row`},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.data)+"/"+tt.timeColumn, func(t *testing.T) {
			cfg := config.Default()
			cfg.Data, cfg.Target, cfg.TimeColumn = tt.data, "y", tt.timeColumn
			f, err := frame.ReadFile(tt.data, ReadOptions(cfg))
			if err != nil {
				t.Fatal(err)
			}
			p, err := prepare(f, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v; want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := len(p.train) + len(p.test); got != tt.wantRows {
				t.Errorf("%d rows split; want %d", got, tt.wantRows)
			}
			if !p.timeOrderedCV() {
				t.Fatalf("cv %s; want time-ordered folds", p.cv)
			}
			for _, r := range append(slices.Clone(p.train), p.test...) {
				if math.IsNaN(p.times[r]) {
					t.Fatalf("row %d kept without a time", r)
				}
			}
			if slices.Max(split.Take(p.times, p.train)) >= slices.Min(split.Take(p.times, p.test)) {
				t.Error("test rows not after the training rows")
			}
		})
	}
}

// TestRankFailedBelowUndefined: on a table too small to score anything
// every CV score is NaN; a failed candidate listed first used to stay
// first, and train then saved the model it never fitted (a nil pointer).
func TestRankFailedBelowUndefined(t *testing.T) {
	nan := math.NaN()
	lb := []Entry{
		{Model: "logistic", Error: "one class"},
		{Model: "tree", CV: eval.Metrics{"auc": nan}},
		{Model: "gbdt", Error: "one class"},
		{Model: "forest", CV: eval.Metrics{"auc": nan}},
	}
	rank(lb, "auc")
	var order []string
	for _, e := range lb {
		order = append(order, e.Model)
	}
	if want := []string{"tree", "forest", "logistic", "gbdt"}; !slices.Equal(order, want) {
		t.Errorf("ranked %v, want %v", order, want)
	}
}
