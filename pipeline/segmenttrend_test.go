package pipeline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
)

// TestSegmentByTrend trains per-segment gbdt models when the best model
// fits a time trend: every segment fit failed with `json: unknown field
// "trend_coef"` (the global trend's coefficients passed back as a
// parameter) and all segments silently used the global model.
func TestSegmentByTrend(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 5))
	var b strings.Builder
	b.WriteString("date,city,x,y\n")
	for c := range 3 {
		for m := range 60 {
			x := rng.Float64()
			fmt.Fprintf(&b, "%04d-%02d-01,c%d,%.4f,%.4f\n", 2010+m/12, m%12+1, c, x, 100+20*float64(c)+float64(m)+5*x+rng.NormFloat64())
		}
	}
	data := filepath.Join(dir, "panel.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.TimeColumn, cfg.Out = data, "y", "date", dir
	cfg.SegmentBy, cfg.MinSegmentRows, cfg.TargetTransform = "city", 20, config.TargetTrend
	cfg.Models, cfg.CVFolds, cfg.ForceProductionQuality = []string{"gbdt"}, 2, false
	res, err := Train(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Leaderboard[0].Params["target_transform"]; got != "trend" {
		t.Fatalf("best model's target_transform %v; want trend", got)
	}
	sm := res.SegmentModels
	if sm == nil || sm.Trained != 3 {
		t.Fatalf("segment models %+v; want all 3 cities with their own model", sm)
	}
	p, err := LoadPredictor(res.ModelPath, Families())
	if err != nil {
		t.Fatal(err)
	}
	f, err := frame.ReadFile(data, frame.ReadOptions{Schema: p.ReadSchema()})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Evaluate(p, f); err != nil {
		t.Errorf("the routed trend models do not predict: %v", err)
	}
}
