package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/split"
)

// TestTargetTransform trains OLS on a multiplicative table (a price that
// grows by a factor per unit of its drivers, with log-normal noise):
// auto must try the log, keep it because CV says it is better, and the
// saved model must predict on the price's own scale.
func TestTargetTransform(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var b strings.Builder
	b.WriteString("size,rooms,grade,price\n")
	for range 600 {
		size, rooms, grade := rng.Float64()*4, float64(1+rng.IntN(6)), rng.NormFloat64()
		fmt.Fprintf(&b, "%.4f,%g,%.4f,%.2f\n", size, rooms, grade, math.Exp(10+0.6*size+0.15*rooms+0.3*grade+0.2*rng.NormFloat64()))
	}
	data := filepath.Join(t.TempDir(), "prices.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(tt config.TargetTransform) *Result {
		cfg := config.Default()
		cfg.Data, cfg.Target, cfg.Out = data, "price", t.TempDir()
		cfg.Models, cfg.CVFolds, cfg.TargetTransform = []string{"ols"}, 3, tt
		cfg.EnableTemporalFeatures, cfg.EnableMarketFeatures = false, false
		res, err := Train(context.Background(), cfg, Options{})
		var gateErr *GateError
		if err != nil && !errors.As(err, &gateErr) {
			t.Fatal(err)
		}
		return res
	}
	ols := func(r *Result) Entry {
		for _, e := range r.Leaderboard {
			if e.Model == "ols" {
				return e
			}
		}
		t.Fatalf("no ols entry in %v", r.Leaderboard)
		return Entry{}
	}
	none, auto := ols(run(config.TargetNone)), ols(run(config.TargetAuto))
	if got := none.Params[model.TargetTransformKey]; got != nil {
		t.Errorf("target_transform none: params say %v", got)
	}
	if got := auto.Params[model.TargetTransformKey]; got != model.TargetLog {
		t.Fatalf("target_transform auto on ames: params %v, want the log chosen", auto.Params)
	}
	if !(auto.CV["r2"] > none.CV["r2"]) {
		t.Errorf("auto chose the log with CV r2 %.4f, raw scored %.4f", auto.CV["r2"], none.CV["r2"])
	}
	// Test metrics are on the price's scale (a model predicting log prices
	// would score a hugely negative R²), and better than the raw fit's.
	if !(auto.Test["r2"] > none.Test["r2"]) {
		t.Errorf("log-target OLS test r2 %.4f, raw %.4f", auto.Test["r2"], none.Test["r2"])
	}
}

// TestSubsampled checks the thinned folds the target transform is chosen
// on: subsets of the run's folds in their order, about n rows in all,
// their own memo tag, and no thinning that would empty a fold.
func TestSubsampled(t *testing.T) {
	n := 30_000
	p := &prepared{train: make([]int, n), split: "s"}
	for i := range p.train {
		p.train[i] = i
	}
	times := make([]float64, n)
	for i := range times {
		times[i] = float64(i / 10)
	}
	folds, err := split.TimeSeries(times, 4)
	if err != nil {
		t.Fatal(err)
	}
	p.folds = folds
	q, ok := p.subsampled(decideRows, 1)
	if !ok || q.foldTag == "" || q.split == p.split {
		t.Fatalf("subsampled: ok %v tag %q split %q", ok, q.foldTag, q.split)
	}
	seen := map[int]bool{}
	for i, f := range q.folds {
		for _, side := range [][2][]int{{f.Train, p.folds[i].Train}, {f.Test, p.folds[i].Test}} {
			if !slices.IsSorted(side[0]) {
				t.Errorf("fold %d: thinned rows out of order", i)
			}
			for _, r := range side[0] {
				if _, found := slices.BinarySearch(side[1], r); !found {
					t.Errorf("fold %d: row %d not in the original fold", i, r)
				}
				seen[r] = true
			}
		}
	}
	if len(seen) > decideRows || len(seen) < decideRows*9/10 {
		t.Errorf("thinned folds use %d distinct rows; want about %d", len(seen), decideRows)
	}
	tiny := &prepared{train: p.train[:decideRows+50], folds: []split.Fold{{Train: []int{0, 1, 2}, Test: []int{3}}}}
	if q, ok := tiny.subsampled(decideRows, 1); ok || q != tiny {
		t.Error("a fold thinned to nothing was not refused")
	}
}

// TestTrendTarget trains a tree on a monthly panel whose level rises
// every year: with time-ordered folds auto must try the trend, keep it
// (CV sees the later folds' higher level), and beat the raw tree on the
// latest period; with shuffled folds, where CV cannot see forecasts, it
// must not try it.
func TestTrendTarget(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	var b strings.Builder
	b.WriteString("year,month,store,size,sales\n")
	for year := 2000; year < 2012; year++ {
		for month := 1; month <= 12; month++ {
			for store := range 4 {
				size := rng.Float64() * 3
				sales := 100 + 8*float64(year-2000) + 4*math.Sin(float64(month)) + 10*size + float64(store) + rng.NormFloat64()
				fmt.Fprintf(&b, "%d,%d,s%d,%.4f,%.3f\n", year, month, store, size, sales)
			}
		}
	}
	data := filepath.Join(t.TempDir(), "sales.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(tt config.TargetTransform, cv config.CVMethod) Entry {
		cfg := config.Default()
		cfg.Data, cfg.Target, cfg.Out, cfg.TimeColumn = data, "sales", t.TempDir(), "year,month"
		cfg.Models, cfg.CVFolds, cfg.TargetTransform, cfg.CV = []string{"tree"}, 4, tt, cv
		cfg.EnableTemporalFeatures, cfg.EnableMarketFeatures = false, false
		res, err := Train(context.Background(), cfg, Options{})
		var gateErr *GateError
		if err != nil && !errors.As(err, &gateErr) {
			t.Fatal(err)
		}
		for _, e := range res.Leaderboard {
			if e.Model == "tree" {
				return e
			}
		}
		t.Fatalf("no tree entry in %v", res.Leaderboard)
		return Entry{}
	}
	none, auto := run(config.TargetNone, config.CVAuto), run(config.TargetAuto, config.CVAuto)
	if got := auto.Params[model.TargetTransformKey]; got != model.TargetTrend {
		t.Fatalf("target_transform auto, time-ordered folds: params %v, want the trend chosen", auto.Params)
	}
	if !(auto.Test["r2"] > none.Test["r2"]+0.1) {
		t.Errorf("trend tree test r2 %.4f, raw %.4f: want the trend well ahead on the latest period", auto.Test["r2"], none.Test["r2"])
	}
	if got := run(config.TargetAuto, config.CVKFold).Params[model.TargetTransformKey]; got == model.TargetTrend {
		t.Errorf("shuffled folds chose the trend (params %v)", got)
	}
}

// TestTrendTargetMissingTime predicts and explains with a saved trend
// model on rows whose time values are missing, and on rows without the
// time column: missing values must give finite predictions that the
// explanation adds up to, an absent column a clear error.
func TestTrendTargetMissingTime(t *testing.T) {
	var b strings.Builder
	b.WriteString("year,month,size,sales\n")
	for year := 2000; year < 2008; year++ {
		for month := 1; month <= 12; month++ {
			size := float64((year*12+month)%7) / 3
			fmt.Fprintf(&b, "%d,%d,%.4f,%.3f\n", year, month, size, 100+8*float64(year-2000)+10*size)
		}
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "sales.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Out, cfg.TimeColumn = data, "sales", t.TempDir(), "year,month"
	cfg.Models, cfg.CVFolds, cfg.TargetTransform = []string{"tree"}, 0, config.TargetTrend
	cfg.EnableTemporalFeatures, cfg.EnableMarketFeatures, cfg.ForceProductionQuality = false, false, false
	res, err := Train(context.Background(), cfg, Options{})
	var gateErr *GateError
	if err != nil && !errors.As(err, &gateErr) {
		t.Fatal(err)
	}
	p, err := LoadPredictor(res.ModelPath, Families())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Model.(*model.TrendModel); !ok {
		t.Fatalf("model %T: want a trend-target model", p.Model)
	}
	read := func(text string) (*frame.Frame, *InputReport, error) {
		path := filepath.Join(t.TempDir(), "x.csv")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p.ReadInput(path, frame.ReadOptions{})
	}
	x, rep, err := read("year,month,size\n,3,1.5\n2009,,0.5\n,,1\n2009,3,1\n")
	if err != nil || rep.Err(false) != nil {
		t.Fatalf("read rows with missing time values: %v %v", err, rep.Err(false))
	}
	pred, err := p.Predict(x)
	if err != nil {
		t.Fatalf("predict rows with missing time values: %v", err)
	}
	for i, v := range pred.Values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("row %d: prediction %v", i, v)
		}
	}
	v, err := Explain(context.Background(), p, x, ExplainOptions{})
	if err != nil {
		t.Fatalf("explain rows with missing time values: %v", err)
	}
	for i, want := range pred.Values {
		if got := v.Sum(i, 0); math.Abs(got-want) > 1e-6*(1+math.Abs(want)) {
			t.Errorf("row %d: explanation adds up to %v, prediction %v", i, got, want)
		}
	}
	x, rep, err = read("month,size\n3,1.5\n")
	if err == nil && rep.Err(false) == nil {
		t.Fatal("rows without the time column year read without a problem")
	}
	if err == nil && !strings.Contains(rep.Err(false).Error(), "year") {
		t.Errorf("rows without the time column: %v, want an error naming year", rep.Err(false))
	}
}
