package store

import (
	"context"
	"fmt"
	"math"

	"github.com/tabforge/tabforge/tune"
)

// A TrialSwapper is a store that replaces a trial only while it is in
// the state its caller read: what a copy of a trial from elsewhere (the
// failover store's replay) needs, so that a trial another process
// claimed, finished or ran under the same number meanwhile is kept.
type TrialSwapper interface {
	// SwapTrial writes t as PutTrial does if the study's trial numbered
	// t.Number still has old's state, objective value and parameters
	// (see SameTrial), or, for a nil old, if the study has no trial of
	// that number, and reports whether it did; otherwise the trial is
	// left as it is. The test and the write are one atomic step.
	SwapTrial(ctx context.Context, study string, old *tune.FrozenTrial, t tune.FrozenTrial) (bool, error)
}

// SwapTrial is s's SwapTrial if s is a TrialSwapper. Otherwise it reads
// the study's trials first, then writes: a narrower window for another
// writer, not none.
func SwapTrial(ctx context.Context, s Store, study string, old *tune.FrozenTrial, t tune.FrozenTrial) (bool, error) {
	if w, ok := s.(TrialSwapper); ok {
		return w.SwapTrial(ctx, study, old, t)
	}
	cur, err := trialOf(ctx, s, study, t.Number)
	if err != nil {
		return false, fmt.Errorf("swap trial %d of study %q: %w", t.Number, study, err)
	}
	if !SameTrial(cur, old) {
		return false, nil
	}
	if err := s.PutTrial(ctx, study, t); err != nil {
		return false, err
	}
	return true, nil
}

// trialOf returns trial number n of the study called study in s, nil if
// there is none.
func trialOf(ctx context.Context, s Store, study string, n int) (*tune.FrozenTrial, error) {
	studies, err := s.ListStudies(ctx)
	if err != nil {
		return nil, err
	}
	for _, st := range studies {
		if st.Name != study {
			continue
		}
		trials, err := s.Trials(ctx, st.ID)
		if err != nil {
			return nil, err
		}
		for i := range trials {
			if trials[i].Number == n {
				return &trials[i], nil
			}
		}
		return nil, nil
	}
	return nil, fmt.Errorf("study %q: %w", study, ErrNotFound)
}

// SameTrial reports whether a and b (nil: no trial) are in the same
// state: the same State, objective value and parameter values, NaN
// equal to NaN. These are what the process that runs a trial sets and
// tune's workers change by claiming or finishing it; times, ids and
// intermediate values are left out.
func SameTrial(a, b *tune.FrozenTrial) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.State != b.State || !sameFloat(a.Value, b.Value) || len(a.Params) != len(b.Params) {
		return false
	}
	for name, v := range a.Params {
		w, ok := b.Params[name]
		if !ok || !sameFloat(v, w) {
			return false
		}
	}
	return true
}

func sameFloat(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
