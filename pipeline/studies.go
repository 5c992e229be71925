package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/tune"
)

// StudySummary is one tuning study with its trial counts and best value.
type StudySummary struct {
	store.Study
	Trials   int      `json:"trials"`
	Complete int      `json:"complete"`
	Pruned   int      `json:"pruned"`
	Best     *float64 `json:"best,omitempty"`
	BestAt   int      `json:"best_trial"` // -1 without a complete trial
}

// MarshalJSON writes a best value of ±Inf (a diverged fit's RMSE or log
// loss, the only trial's) as null, which JSON can hold.
func (s StudySummary) MarshalJSON() ([]byte, error) {
	type plain StudySummary
	p := plain(s)
	if p.Best != nil && math.IsInf(*p.Best, 0) {
		p.Best = nil
	}
	return json.Marshal(p)
}

// RunStudyPrefix is the name prefix of the tuning studies a run's training
// used: studies are named by dataset version and config, so a rerun of
// the same data and config shares (and resumes) them.
func RunStudyPrefix(r *store.Run) string {
	ds, cfg := r.DatasetHash, r.ConfigHash
	if len(ds) > 16 {
		ds = ds[:16]
	}
	if len(cfg) > 16 {
		cfg = cfg[:16]
	}
	return fmt.Sprintf("train/%s/%s/", ds, cfg)
}

// Studies lists the studies in st whose name starts with prefix ("" for
// all), with their trials counted.
func Studies(ctx context.Context, st store.Store, prefix string) ([]StudySummary, error) {
	all, err := st.ListStudies(ctx)
	if err != nil {
		return nil, err
	}
	var out []StudySummary
	for _, s := range all {
		if !strings.HasPrefix(s.Name, prefix) {
			continue
		}
		trials, err := st.Trials(ctx, s.ID)
		if err != nil {
			return nil, fmt.Errorf("study %s: %w", s.Name, err)
		}
		out = append(out, SummarizeStudy(s, trials))
	}
	return out, nil
}

// SummarizeStudy counts s's trials by state and finds its best complete
// trial in s's direction.
func SummarizeStudy(s store.Study, trials []tune.FrozenTrial) StudySummary {
	sum := StudySummary{Study: s, Trials: len(trials), BestAt: -1}
	for _, t := range trials {
		switch t.State {
		case tune.Pruned:
			sum.Pruned++
		case tune.Complete:
			sum.Complete++
			if math.IsNaN(t.Value) {
				continue
			}
			if sum.Best == nil || (s.Direction == tune.Maximize) == (t.Value > *sum.Best) && t.Value != *sum.Best {
				v := t.Value
				sum.Best, sum.BestAt = &v, t.Number
			}
		}
	}
	return sum
}

// TrialUnitsKind is the record kind of where the folds of queued trials
// ran: one record per trial, keyed by study name and trial number, with
// a JSON list of UnitRun.
const TrialUnitsKind = "trial_units"

// UnitRun is where and how long one fold unit of a trial ran.
type UnitRun struct {
	Fold   int    `json:"fold"`
	Worker string `json:"worker"`
	// QueuedMS is the time from publishing the unit to a worker starting
	// it, RunMS the time it ran, in milliseconds.
	QueuedMS float64 `json:"queued_ms"`
	RunMS    float64 `json:"run_ms"`
}

func trialUnitsKey(study string, number int) string { return fmt.Sprintf("%s#%06d", study, number) }

func durationMS(d time.Duration) float64 { return math.Round(float64(d.Microseconds())/10) / 100 }

// TrialUnits returns where the folds of the study's queued trials ran,
// by trial number; trials that ran in-process have none.
func TrialUnits(ctx context.Context, recs store.Records, study string) (map[int][]UnitRun, error) {
	rs, err := recs.ListRecords(ctx, TrialUnitsKind, study+"#")
	if err != nil {
		return nil, fmt.Errorf("study %s: units: %w", study, err)
	}
	out := make(map[int][]UnitRun, len(rs))
	for _, r := range rs {
		n, err := strconv.Atoi(strings.TrimPrefix(r.Key, study+"#"))
		if err != nil {
			continue // another study's, whose name extends this one
		}
		var units []UnitRun
		if err := json.Unmarshal(r.Value, &units); err != nil {
			return nil, fmt.Errorf("study %s trial %d: units: %w", study, n, err)
		}
		out[n] = units
	}
	return out, nil
}

// FoldValues returns a trial's score on each CV fold from its
// intermediate values: a training study reports, at step k, the mean
// score of folds 1..k (folds in order), so fold k scored
// k·mean_k − (k−1)·mean_(k−1). It stops at the first step missing (a
// pruned trial reports only the folds it ran); nil when step 1 is.
func FoldValues(intermediate map[int]float64) []float64 {
	var out []float64
	prev := 0.0
	for k := 1; ; k++ {
		m, ok := intermediate[k]
		if !ok {
			return out
		}
		out = append(out, float64(k)*m-float64(k-1)*prev)
		prev = m
	}
}
