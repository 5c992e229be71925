package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/model"
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
