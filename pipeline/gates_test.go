package pipeline

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/model"
)

// TestProductionGates: per-segment business-accuracy floors and the
// single-row latency limit fail a run when set out of reach and pass when
// within it, naming the worst segment and the measured latency.
func TestProductionGates(t *testing.T) {
	run := func(floor float64, latency time.Duration) (*Result, error) {
		cfg := config.Default()
		cfg.Data, cfg.Target = filepath.Join("..", "testdata", "ames.csv"), "Sale_Price"
		cfg.TimeColumn, cfg.SegmentColumn = "Year_Sold,Mo_Sold", "Neighborhood"
		cfg.Models, cfg.CVFolds, cfg.Out = []string{"ridge"}, 0, t.TempDir()
		cfg.MinSegmentBusinessAccuracy, cfg.MaxLatency = floor, config.Duration(latency)
		return Train(context.Background(), cfg, Options{})
	}
	res, err := run(99.9, time.Nanosecond)
	var ge *GateError
	if !errors.As(err, &ge) {
		t.Fatalf("unreachable gates: err = %v; want a GateError", err)
	}
	msg := strings.Join(ge.Failures, "\n")
	for _, want := range []string{"min_segment_business_accuracy: test within20 of Neighborhood=", "max_latency: test p95 single-row latency ms"} {
		if !strings.Contains(msg, want) {
			t.Errorf("failures %q lack %q", msg, want)
		}
	}
	if res.Deployable {
		t.Error("a run failing its gates is deployable")
	}
	var worst float64
	for _, g := range res.Gates {
		if g.Name == "min_segment_business_accuracy" {
			worst = g.Value
		}
	}
	// The gate reports the worst segment with enough rows.
	for _, s := range res.Segments {
		if s.Rows >= minGateSegmentRows && s.Test["within20"] < worst {
			t.Errorf("segment %s within20 %v is below the gate's worst %v", s.Segment, s.Test["within20"], worst)
		}
	}
	if _, err := run(worst, 10*time.Second); err != nil {
		t.Errorf("floor at the worst segment (%v) and a 10 s latency limit: %v", worst, err)
	}
}

// TestRegressionOnlyGates checks the warning for thresholds a
// classification run cannot be gated by: a binary run with
// min_r2_threshold 0.99 came out deployable without a word.
func TestRegressionOnlyGates(t *testing.T) {
	cases := []struct {
		task model.Task
		set  func(c *config.Config)
		want string // "" means no warning
	}{
		{model.Binary, func(c *config.Config) { c.MinR2Threshold = 0.99 }, "min_r2_threshold: gates regression models only; this binary run"},
		{model.Multiclass, func(c *config.Config) { c.MinBusinessAccuracy = 90 }, "min_business_accuracy: gates regression"},
		{model.Binary, func(c *config.Config) {}, ""},
		{model.Binary, func(c *config.Config) { c.MinR2Threshold, c.ForceProductionQuality = 0.99, false }, ""},
		{model.Regression, func(c *config.Config) { c.MinR2Threshold = 0.99 }, ""},
	}
	for i, tc := range cases {
		cfg := config.Default()
		tc.set(cfg)
		got := regressionOnlyGates(cfg, tc.task)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("case %d (%s): regressionOnlyGates = %q; want %q", i, tc.task, got, tc.want)
		}
	}
}

// TestClassificationGateWarning runs a binary task with min_r2_threshold
// set out of reach and checks the result says it gated nothing.
func TestClassificationGateWarning(t *testing.T) {
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	cfg.Models, cfg.CVFolds, cfg.MinR2Threshold, cfg.Out = []string{"logistic"}, 0, 0.99, t.TempDir()
	res, err := Train(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Deployable || !slices.ContainsFunc(res.Warnings, func(w string) bool {
		return strings.HasPrefix(w, "min_r2_threshold: gates regression models only")
	}) {
		t.Errorf("deployable %v, warnings %q; want a deployable run warning that min_r2_threshold gated nothing", res.Deployable, res.Warnings)
	}
}

func TestGateFailures(t *testing.T) {
	tests := []struct {
		gate Gate
		want string
	}{
		{Gate{Name: "min_r2_threshold", Metric: "r2", Threshold: 0.75, Value: 0.5}, "min_r2_threshold: test r2 0.5 is below 0.75"},
		{Gate{Name: "max_latency", Metric: "p95", Threshold: 10, Value: 12, Max: true}, "max_latency: test p95 12 exceeds 10"},
		{Gate{Name: "min_r2_threshold", Metric: "r2", Threshold: 0.75, Value: math.NaN()}, "min_r2_threshold: test r2 is undefined on these test rows (a constant target or a single class), so it cannot reach 0.75"},
		{Gate{Name: "rule", Metric: "mae", Detail: "segment A", Value: 1}, "rule (mae): segment A"},
	}
	for _, tt := range tests {
		got := Gates{tt.gate}.Failures()
		if len(got) != 1 || got[0] != tt.want {
			t.Errorf("Failures(%+v) = %q; want %q", tt.gate, got, tt.want)
		}
	}
}
