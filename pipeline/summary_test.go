package pipeline

import (
	"testing"
	"time"

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
