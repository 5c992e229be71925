package pipeline

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/tabforge/tabforge/eval"

	"github.com/tabforge/tabforge/store"
)

// TestSummarizeDuration: a finished run's duration is its own, a running
// one's grows with now, and an interrupted one (killed; its end unknown)
// has none: it used to grow with every look.
func TestSummarizeDuration(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := t0.Add(time.Hour)
	for _, tt := range []struct {
		status   store.Status
		finished time.Time
		want     time.Duration
	}{
		{store.Succeeded, t0.Add(time.Minute), time.Minute},
		{store.Running, time.Time{}, time.Hour},
		{store.Interrupted, time.Time{}, 0},
	} {
		s, err := Summarize(&store.Run{ID: "r", Created: t0, Finished: tt.finished, Status: tt.status}, now)
		if err != nil || s.Duration != tt.want {
			t.Errorf("%s: duration %s, %v; want %s", tt.status, s.Duration, err, tt.want)
		}
	}
}

// TestSummarizeUndefinedMetric: a run whose leader's metric is undefined
// (NaN: ols on a target near the float range) summarises without it, so
// that the summary can be written as JSON; runs list --json failed with
// "unsupported value: NaN" on any store holding such a run.
func TestSummarizeUndefinedMetric(t *testing.T) {
	for _, v := range []float64{math.NaN(), math.Inf(1)} {
		res := Result{Metric: "r2", Leaderboard: []Entry{{Model: "ols", CV: eval.Metrics{"r2": 0.5}, Test: eval.Metrics{"r2": v}}}}
		raw, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Summarize(&store.Run{ID: "r", Status: store.Succeeded, Result: raw}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := json.Marshal(s); err != nil || s.Test != nil || s.CV == nil {
			t.Errorf("test r2 %v: summary %+v, JSON error %v; want no test metric, the CV one, and JSON", v, s, err)
		}
	}
}
