package pipeline

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/store"
)

// RunSummary is a recorded run's headline, for lists of runs: the metric
// its leaderboard was ranked by, the leader's CV and test values of it
// (nil when the run has none, e.g. it failed early), and how long it took.
type RunSummary struct {
	Metric   string        `json:"metric,omitempty"`
	CV       *float64      `json:"cv_metric,omitempty"`
	Test     *float64      `json:"test_metric,omitempty"`
	Duration time.Duration `json:"-"`
	Seconds  float64       `json:"duration_seconds,omitempty"`
}

// Summarize reads r's recorded result. A run still running has the time
// since it started as its duration; an interrupted one (r.Status as
// RunStatus reads it) has none.
func Summarize(r *store.Run, now time.Time) (RunSummary, error) {
	var s RunSummary
	end := r.Finished
	if end.IsZero() && r.Status != store.Interrupted {
		end = now // still running
	}
	// An interrupted run's end is unknown: its duration is left out
	// rather than growing with every look.
	if !r.Created.IsZero() && end.After(r.Created) {
		s.Duration = end.Sub(r.Created)
		s.Seconds = round(s.Duration.Seconds(), 3)
	}
	if len(r.Result) == 0 {
		return s, nil
	}
	var res Result
	if err := json.Unmarshal(r.Result, &res); err != nil {
		return s, fmt.Errorf("run %s: result: %w", r.ID, err)
	}
	s.Metric = res.Metric
	if len(res.Leaderboard) > 0 {
		lead := res.Leaderboard[0]
		// An undefined metric (NaN, ±Inf: an overflowing target, a one-row
		// test set) is left out, as JSON cannot hold it: runs list --json
		// failed on every store holding such a run.
		if v, ok := lead.CV[res.Metric]; ok {
			s.CV = eval.JSONValue(v)
		}
		if v, ok := lead.Test[res.Metric]; ok {
			s.Test = eval.JSONValue(v)
		}
	}
	return s, nil
}
