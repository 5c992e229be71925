package storetest

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/tune"
)

// testSwapTrial creates a trial over none, finishes it over the state
// read back, and then tries writes over states it is not in: no trial,
// the running state it left, and the finished one with another value,
// another parameter value, a parameter more and one less. Only the
// first two are made; the trial keeps its finished state. It runs on the
// store itself (its own SwapTrial if it is a store.TrialSwapper) and on
// a store.Store that hides it, for store.SwapTrial's read-then-write
// path.
func testSwapTrial(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	s := open()
	d := tune.Distribution{Kind: tune.Float, Low: 0, High: 1}
	// 0.1 and 3e-7 have no short binary form: compared exactly, not as text.
	params := map[string]float64{"x": 0.1, "y": 3e-7}
	trial := func(st tune.State, value float64, params map[string]float64) tune.FrozenTrial {
		return tune.FrozenTrial{Number: 0, State: st, Value: value, RetryOf: -1, Params: params,
			Distributions: map[string]tune.Distribution{"x": d, "y": d, "z": d}, Start: time.Unix(1, 0).UTC()}
	}
	running := trial(tune.Running, math.NaN(), params)
	for _, c := range []struct {
		name string
		s    store.Store
	}{{"native", s}, {"generic", struct{ store.Store }{s}}} {
		study := "swap-" + c.name
		sid, err := s.PutStudy(ctx, store.Study{Name: study, Direction: tune.Minimize})
		if err != nil {
			t.Fatal(err)
		}
		swap := func(old *tune.FrozenTrial, tr tune.FrozenTrial, want bool, what string) {
			t.Helper()
			if ok, err := store.SwapTrial(ctx, c.s, study, old, tr); err != nil || ok != want {
				t.Errorf("%s: SwapTrial over %s = %v, %v; want %v", c.name, what, ok, err, want)
			}
		}
		swap(nil, running, true, "no trial")
		trials, err := s.Trials(ctx, sid)
		if err != nil || len(trials) != 1 {
			t.Fatalf("%s: trials after the creation = %+v, %v", c.name, trials, err)
		}
		done := trial(tune.Complete, 1.25, params)
		swap(&trials[0], done, true, "the state read")
		stale := trial(tune.Complete, 9, params)
		swap(nil, stale, false, "no trial, when there is one")
		swap(&running, stale, false, "the running state it left")
		for what, old := range map[string]tune.FrozenTrial{
			"another value":           trial(tune.Complete, 2, params),
			"another parameter value": trial(tune.Complete, 1.25, map[string]float64{"x": 0.1, "y": 3e-8}),
			"a parameter more":        trial(tune.Complete, 1.25, map[string]float64{"x": 0.1, "y": 3e-7, "z": 0}),
			"a parameter less":        trial(tune.Complete, 1.25, map[string]float64{"x": 0.1}),
		} {
			swap(&old, stale, false, what)
		}
		trials, err = s.Trials(ctx, sid)
		if err != nil || len(trials) != 1 || !store.SameTrial(&trials[0], &done) {
			t.Errorf("%s: trials after the swaps = %+v, %v; want trial 0 complete with value 1.25", c.name, trials, err)
		}
	}
}
