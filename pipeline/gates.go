package pipeline

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
)

// minGateSegmentRows is the fewest test rows a segment needs to be held
// to min_segment_business_accuracy: the business accuracy of a segment of
// a handful of rows says more about chance than about the model.
const minGateSegmentRows = 10

// latencyRows caps the test rows timed one at a time for max_latency.
const latencyRows = 100

// productionGates are the optional gates beside checkGates' thresholds:
// min_segment_business_accuracy (every segment of segment_column with at
// least minGateSegmentRows test rows; the gate shows the worst) and
// max_latency (the 95th percentile of single-row prediction times of the
// saved predictor on test rows). Both need force_production_quality.
func productionGates(cfg *config.Config, p *prepared, segments []SegmentMetrics, pred *Predictor) Gates {
	if !cfg.ForceProductionQuality {
		return nil
	}
	var out Gates
	if cfg.MinSegmentBusinessAccuracy > 0 && p.task == model.Regression {
		g := Gate{Name: "min_segment_business_accuracy", Threshold: cfg.MinSegmentBusinessAccuracy, Passed: true}
		worst := -1
		for i, s := range segments {
			v, ok := s.Test["within20"]
			if !ok || s.Rows < minGateSegmentRows {
				continue
			}
			if worst < 0 || v < segments[worst].Test["within20"] {
				worst = i
			}
		}
		switch {
		case cfg.SegmentColumn == "":
			g.Metric, g.Passed = "within20 (no segment_column set)", false
		case worst < 0:
			g.Metric = fmt.Sprintf("within20 (no %s segment has %d test rows)", cfg.SegmentColumn, minGateSegmentRows)
			g.Value = g.Threshold
		default:
			s := segments[worst]
			g.Metric = fmt.Sprintf("within20 of %s=%s (%d rows)", cfg.SegmentColumn, s.Segment, s.Rows)
			g.Value = s.Test["within20"]
			g.Passed = g.Value >= g.Threshold
		}
		out = append(out, g)
	}
	if cfg.MaxLatency > 0 && pred != nil {
		limit := time.Duration(cfg.MaxLatency)
		g := Gate{Name: "max_latency", Metric: "p95 single-row latency ms", Threshold: ms(limit), Max: true}
		lat, err := singleRowLatency(pred, p.x, p.test)
		if err != nil {
			g.Metric = fmt.Sprintf("p95 single-row latency ms (%v)", err)
		} else {
			g.Value, g.Passed = ms(lat), lat <= limit
		}
		out = append(out, g)
	}
	return out
}

// singleRowLatency times pred on up to latencyRows rows of x, one row per
// call, and returns the 95th percentile.
func singleRowLatency(pred *Predictor, x *frame.Frame, rows []int) (time.Duration, error) {
	n := min(len(rows), latencyRows)
	if n == 0 {
		return 0, fmt.Errorf("no test rows to time")
	}
	one := make([]*frame.Frame, n)
	for i := range n {
		one[i] = x.Take(rows[i : i+1])
	}
	if _, err := pred.Predict(one[0]); err != nil { // warm up
		return 0, err
	}
	times := make([]time.Duration, n)
	for i, f := range one {
		t0 := time.Now()
		if _, err := pred.Predict(f); err != nil {
			return 0, err
		}
		times[i] = time.Since(t0)
	}
	slices.Sort(times)
	return times[(95*n-1)/100], nil
}

func ms(d time.Duration) float64 { return round(d.Seconds()*1000, 4) }

// Gate is one production quality check on the best model's test metrics.
type Gate = eval.Gate

// Gates are the quality checks of a run.
type Gates []Gate

// GateError reports a run whose best model failed the quality gates
// (force_production_quality). The model is saved but not deployable.
type GateError struct {
	Model    string
	Failures []string
}

// checkGates applies min_r2_threshold and min_business_accuracy to a
// regression model's test metrics when force_production_quality is on.
// Classification has no gate of these kinds yet.
func checkGates(cfg *config.Config, task model.Task, test eval.Metrics) Gates {
	if !cfg.ForceProductionQuality || task != model.Regression {
		return nil
	}
	mk := func(name, metric string, thr float64) Gate {
		v := test[metric]
		return Gate{Name: name, Metric: metric, Threshold: thr, Value: v, Passed: v >= thr}
	}
	return Gates{
		mk("min_r2_threshold", "r2", cfg.MinR2Threshold),
		mk("min_business_accuracy", "within20", cfg.MinBusinessAccuracy),
	}
}

// regressionOnlyGates warns when the user changed a threshold that only
// gates regression on a classification run: without the warning the run
// came out deployable as if the threshold had been checked.
func regressionOnlyGates(cfg *config.Config, task model.Task) string {
	if !cfg.ForceProductionQuality || task == model.Regression {
		return ""
	}
	def := config.Default()
	var keys []string
	if cfg.MinR2Threshold != def.MinR2Threshold {
		keys = append(keys, "min_r2_threshold")
	}
	if cfg.MinBusinessAccuracy != def.MinBusinessAccuracy {
		keys = append(keys, "min_business_accuracy")
	}
	if cfg.MinSegmentBusinessAccuracy > 0 {
		keys = append(keys, "min_segment_business_accuracy")
	}
	if len(keys) == 0 {
		return ""
	}
	return fmt.Sprintf("%s: gates regression models only; this %s run is not gated by it (use a business rule with gate: true)", strings.Join(keys, ", "), task)
}

// Passed reports whether every gate passed.
func (g Gates) Passed() bool {
	for _, x := range g {
		if !x.Passed {
			return false
		}
	}
	return true
}

// Failures describes the failed gates.
func (g Gates) Failures() []string {
	var out []string
	for _, x := range g {
		if !x.Passed && x.Detail != "" {
			out = append(out, fmt.Sprintf("%s (%s): %s", x.Name, x.Metric, x.Detail))
		} else if !x.Passed && math.IsNaN(x.Value) {
			// "NaN is below 0.75" read as a bug; the score has no value
			// on test rows whose target does not vary (a single row).
			out = append(out, fmt.Sprintf("%s: test %s is undefined on these test rows (a constant target or a single class), so it cannot reach %.4g", x.Name, x.Metric, x.Threshold))
		} else if !x.Passed {
			rel := "is below"
			if x.Max {
				rel = "exceeds"
			}
			out = append(out, fmt.Sprintf("%s: test %s %.4g %s %.4g", x.Name, x.Metric, x.Value, rel, x.Threshold))
		}
	}
	return out
}

func (e *GateError) Error() string {
	return fmt.Sprintf("quality gates failed for %s: %s", e.Model, strings.Join(e.Failures, "; "))
}
