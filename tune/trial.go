package tune

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// ErrPruned is returned by an objective whose trial was pruned (after
// Trial.ShouldPrune reported true). Study.Tell records such a trial as
// Pruned, with its last reported value.
var ErrPruned = errors.New("tune: trial pruned")

// ErrAbort, wrapped in an objective's error, stops the study: the trial
// fails and Optimize (or OptimizeBatch) returns the error, as it does a
// storage error. It is for failures no later trial can avoid, such as
// nothing being left to run trials on.
var ErrAbort = errors.New("tune: study aborted")

// State is the life-cycle state of a trial.
type State string

// Trial states. A trial is created Running (or Waiting, when it was
// enqueued to be retried) and ends Complete, Pruned or Fail.
const (
	Running  State = "running"
	Waiting  State = "waiting"
	Complete State = "complete"
	Pruned   State = "pruned"
	Fail     State = "fail"
)

// Finished reports whether s is a final state.
func (s State) Finished() bool { return s == Complete || s == Pruned || s == Fail }

// FrozenTrial is a stored snapshot of a trial, as samplers, pruners and
// storages see it.
type FrozenTrial struct {
	// ID identifies the trial in its storage; Number is its 0-based rank
	// in the study.
	ID     int64
	Number int
	State  State
	// Value is the objective value of a Complete trial and the last
	// reported value of a Pruned one; NaN otherwise.
	Value float64
	// Params holds internal parameter values (see Distribution) and
	// Distributions their distributions, by parameter name.
	Params        map[string]float64
	Distributions map[string]Distribution
	// Intermediate holds the values reported per step.
	Intermediate map[int]float64
	// RetryOf is the number of the interrupted trial this one retries
	// with the same parameters, or -1.
	RetryOf int
	// Error explains a Fail state; it begins "interrupted" for a trial
	// cut short rather than failed of itself (see Interrupted).
	Error         string
	Start, Finish time.Time
}

// interruptedPrefix begins the Error of a trial cut short: its context was
// done (a deadline, Ctrl-C) or its process stopped while it ran.
const interruptedPrefix = "interrupted"

// Interrupted reports whether t was cut short rather than failed of
// itself: recorded Fail, and enqueued to be retried with its parameters.
func (t *FrozenTrial) Interrupted() bool {
	return t.State == Fail && strings.HasPrefix(t.Error, interruptedPrefix)
}

// Param returns the external value of parameter name (float64, int or
// string), or false if the trial has no such parameter.
func (t *FrozenTrial) Param(name string) (any, bool) {
	v, ok := t.Params[name]
	if !ok {
		return nil, false
	}
	return t.Distributions[name].External(v), true
}

// ParamValues returns all parameters as external values.
func (t *FrozenTrial) ParamValues() map[string]any {
	out := make(map[string]any, len(t.Params))
	for name, v := range t.Params {
		out[name] = t.Distributions[name].External(v)
	}
	return out
}

// LastStep returns the largest reported step, or false if none.
func (t *FrozenTrial) LastStep() (int, bool) {
	if len(t.Intermediate) == 0 {
		return 0, false
	}
	return slices.Max(slices.Collect(maps.Keys(t.Intermediate))), true
}

// clone returns a deep copy of t.
func (t *FrozenTrial) clone() FrozenTrial {
	c := *t
	c.Params = maps.Clone(t.Params)
	c.Distributions = maps.Clone(t.Distributions)
	c.Intermediate = maps.Clone(t.Intermediate)
	if c.Params == nil {
		c.Params = map[string]float64{}
	}
	if c.Distributions == nil {
		c.Distributions = map[string]Distribution{}
	}
	if c.Intermediate == nil {
		c.Intermediate = map[int]float64{}
	}
	return c
}

// Trial is one evaluation of the objective, live. The objective asks it
// for parameters and reports intermediate values to it. A Trial's methods
// are safe for concurrent use, but a trial belongs to one objective call.
//
// Suggest methods never fail: a repeated name returns the value already
// chosen; an invalid range or a storage failure is recorded and returned
// by Err, and the study then records the trial as failed.
type Trial struct {
	study   *Study
	id      int64
	number  int
	retryOf int // the number of the interrupted trial this one retries, or -1
	seed    uint64
	hist    History // snapshot of the other trials when the trial started
	// pruneHist, if not nil, is what the pruner sees instead of the
	// study's current trials: OptimizeBatch's trials finished before the
	// batch, so that pruning does not depend on the timing of the others.
	pruneHist *History

	mu       sync.Mutex
	rng      *rand.Rand
	params   map[string]float64
	dists    map[string]Distribution
	relSpace map[string]Distribution
	relative map[string]float64
	inter    map[int]float64
	err      error
}

// Number returns the trial's 0-based number in its study.
func (t *Trial) Number() int { return t.number }

// RetryOf returns the number of the interrupted trial this one retries
// with its parameters, or -1 if it is no retry.
func (t *Trial) RetryOf() int { return t.retryOf }

// Seed returns a seed for the models the trial fits, derived from the
// study seed and the trial number.
func (t *Trial) Seed() uint64 { return t.seed }

// Err returns the first error a Suggest or Report call met, if any.
func (t *Trial) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// Params returns the parameters suggested so far, as external values.
func (t *Trial) Params() map[string]any {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]any, len(t.params))
	for name, v := range t.params {
		out[name] = t.dists[name].External(v)
	}
	return out
}

// SuggestFloat returns a value for the float parameter name in [lo, hi],
// log-uniformly distributed a priori if log is set.
func (t *Trial) SuggestFloat(name string, lo, hi float64, log bool) float64 {
	v := t.suggest(name, FloatDist(lo, hi, log))
	if math.IsNaN(v) {
		return lo
	}
	return v
}

// SuggestInt returns a value for the integer parameter name in [lo, hi].
func (t *Trial) SuggestInt(name string, lo, hi int, log bool) int {
	v := t.suggest(name, IntDist(lo, hi, log))
	if math.IsNaN(v) {
		return lo
	}
	return int(v)
}

// SuggestCategorical returns one of choices for parameter name.
func (t *Trial) SuggestCategorical(name string, choices []string) string {
	v := t.suggest(name, CategoricalDist(choices...))
	if math.IsNaN(v) {
		if len(choices) == 0 {
			return ""
		}
		return choices[0]
	}
	return choices[int(v)]
}

// Suggest returns the internal value of parameter name drawn from d; see
// Distribution. SuggestFloat, SuggestInt and SuggestCategorical wrap it.
// It returns NaN (and records an error) if d is invalid or conflicts
// with an earlier suggestion of name.
func (t *Trial) Suggest(name string, d Distribution) float64 { return t.suggest(name, d) }

func (t *Trial) suggest(name string, d Distribution) float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := d.Validate(); err != nil {
		t.setErr(fmt.Errorf("parameter %q: %w", name, err))
		return math.NaN()
	}
	if v, ok := t.params[name]; ok {
		if !t.dists[name].Equal(d) {
			if d.Contains(v) && d.Kind == t.dists[name].Kind && d.Kind != Categorical {
				return v // a retried or enqueued value that still fits
			}
			t.setErr(fmt.Errorf("tune: parameter %q suggested with %+v, earlier with %+v", name, d, t.dists[name]))
			return math.NaN()
		}
		if !d.Contains(v) { // a stored value from elsewhere (an import, another build)
			t.setErr(fmt.Errorf("tune: parameter %q: stored value %v is not in the %s", name, v, d.span()))
			return math.NaN()
		}
		return v
	}
	v, ok := t.relativeValue(name, d)
	if !ok {
		if d.Single() {
			v = d.Low
			if d.Kind == Categorical {
				v = 0
			}
		} else {
			var err error
			v, err = t.study.sampler.SampleIndependent(&t.hist, t.rng, name, d)
			if err == nil && !d.Contains(v) {
				err = fmt.Errorf("sampler returned %v outside %+v", v, d)
			}
			if err != nil {
				t.setErr(fmt.Errorf("tune: parameter %q: %w", name, err))
				v = d.sample(t.rng)
			}
		}
	}
	t.params[name], t.dists[name] = v, d
	// Parameters are persisted even if the study's context is cancelled,
	// so a trial interrupted by the deadline can be retried.
	ctx := context.Background()
	if err := t.study.storage.SetTrialParam(ctx, t.id, name, d, v); err != nil {
		t.setErr(fmt.Errorf("tune: store parameter %q: %w", name, err))
	}
	return v
}

// relativeValue returns the jointly sampled value of name converted to d,
// if there is one and d contains it.
func (t *Trial) relativeValue(name string, d Distribution) (float64, bool) {
	rv, ok := t.relative[name]
	if !ok {
		return 0, false
	}
	rd := t.relSpace[name]
	if rd.Equal(d) {
		return rv, true
	}
	return d.Internal(rd.External(rv))
}

func (t *Trial) setErr(err error) {
	if t.err == nil {
		t.err = err
	}
}

// Report records the objective's intermediate value at step (a CV fold, a
// boosting round). Reporting a step twice keeps the first value, as
// Optuna does.
func (t *Trial) Report(value float64, step int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if step < 0 {
		t.setErr(fmt.Errorf("tune: report at negative step %d", step))
		return
	}
	if _, dup := t.inter[step]; dup {
		return
	}
	t.inter[step] = value
	if err := t.study.storage.SetIntermediateValue(context.Background(), t.id, step, value); err != nil {
		t.setErr(fmt.Errorf("tune: store intermediate value at step %d: %w", step, err))
	}
}

// ShouldPrune asks the study's pruner whether the trial should stop, given
// the values reported so far and the other trials of the study. It is
// false when the study has no pruner.
func (t *Trial) ShouldPrune() bool {
	if t.study.pruner == nil {
		return false
	}
	t.mu.Lock()
	self := t.frozen()
	t.mu.Unlock()
	if len(self.Intermediate) == 0 {
		return false
	}
	if t.pruneHist != nil {
		return t.study.pruner.Prune(t.pruneHist, self)
	}
	h, err := t.study.history(context.Background(), t.id)
	if err != nil {
		t.mu.Lock()
		t.setErr(fmt.Errorf("tune: should prune: %w", err))
		t.mu.Unlock()
		return false
	}
	return t.study.pruner.Prune(&h, self)
}

// frozen returns a snapshot of the trial; t.mu must be held.
func (t *Trial) frozen() FrozenTrial {
	return FrozenTrial{
		ID: t.id, Number: t.number, State: Running, Value: math.NaN(),
		Params: maps.Clone(t.params), Distributions: maps.Clone(t.dists),
		Intermediate: maps.Clone(t.inter), RetryOf: -1,
	}
}

// lastReported returns the value at the largest reported step, or NaN.
func (t *Trial) lastReported() float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.frozen()
	if s, ok := f.LastStep(); ok {
		return f.Intermediate[s]
	}
	return math.NaN()
}
