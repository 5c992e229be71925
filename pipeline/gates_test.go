package pipeline

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/config"
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
