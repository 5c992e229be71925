package tune

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// Direction says whether the objective is minimised or maximised. The
// zero value means Minimize.
type Direction string

// Directions.
const (
	Minimize Direction = "minimize"
	Maximize Direction = "maximize"
)

// normal returns d with the zero value resolved.
func (d Direction) normal() Direction {
	if d == "" {
		return Minimize
	}
	return d
}

// better reports whether value a beats b in direction d; NaN never wins.
func (d Direction) better(a, b float64) bool {
	if math.IsNaN(a) {
		return false
	}
	if math.IsNaN(b) {
		return true
	}
	if d.normal() == Maximize {
		return a > b
	}
	return a < b
}

// History is what a sampler or pruner sees of a study: its direction and
// its trials (other than the one being sampled or pruned), by number.
// Running trials carry the parameters chosen for them so far.
type History struct {
	Direction Direction
	Trials    []FrozenTrial
	// Lies counts the trials that are still running but appear Complete
	// with a made-up value (OptimizeBatch's constant liar), so that a
	// batch spreads out. They are among Trials; samplers leave them out
	// of counts of finished trials, such as TPE's startup trials.
	Lies int
}

// loss returns v oriented so that smaller is better.
func (h *History) loss(v float64) float64 {
	if h.Direction.normal() == Maximize {
		return -v
	}
	return v
}

// ErrExhausted is returned by a sampler that has nothing left to propose;
// Study.Optimize then stops without error.
var ErrExhausted = errors.New("tune: search space exhausted")

// Sampler proposes parameter values, in Optuna's three steps. At the start
// of a trial the study asks InferRelativeSpace for the parameters to draw
// jointly and SampleRelative for their values; each suggestion of a
// parameter outside that space (or whose distribution differs) goes to
// SampleIndependent. All randomness must come from rng, the trial's own
// stream, so a study is reproducible. Values are internal (see
// Distribution). A Sampler must be safe for concurrent use.
type Sampler interface {
	// InferRelativeSpace returns the parameters to sample jointly; nil
	// for none.
	InferRelativeSpace(h *History) map[string]Distribution
	// SampleRelative draws values for space; it may return ErrExhausted.
	SampleRelative(h *History, rng *rand.Rand, space map[string]Distribution) (map[string]float64, error)
	// SampleIndependent draws a value for one parameter.
	SampleIndependent(h *History, rng *rand.Rand, name string, d Distribution) (float64, error)
}

// RandomSampler draws every parameter independently and uniformly (in log
// space for Log distributions).
type RandomSampler struct{}

var _ Sampler = RandomSampler{}

// InferRelativeSpace implements Sampler; it returns nil.
func (RandomSampler) InferRelativeSpace(*History) map[string]Distribution { return nil }

// SampleRelative implements Sampler; it returns nil.
func (RandomSampler) SampleRelative(*History, *rand.Rand, map[string]Distribution) (map[string]float64, error) {
	return nil, nil
}

// SampleIndependent implements Sampler.
func (RandomSampler) SampleIndependent(_ *History, rng *rand.Rand, _ string, d Distribution) (float64, error) {
	return d.sample(rng), nil
}

// GridSampler evaluates every point of an explicit grid once, in random
// order, then reports ErrExhausted. Grid maps parameter names to their
// values: float64 or int for SuggestFloat and SuggestInt, string for
// SuggestCategorical. A point counts as taken once a trial (in any state,
// running included) has all of its values. Parameters the objective
// suggests outside the grid are drawn at random.
type GridSampler struct {
	Grid map[string][]any
}

var _ Sampler = GridSampler{}

// names returns the grid's parameter names, sorted.
func (g GridSampler) names() []string {
	names := slices.Collect(maps.Keys(g.Grid))
	sort.Strings(names)
	return names
}

// Size returns the number of grid points.
func (g GridSampler) Size() int {
	if len(g.Grid) == 0 {
		return 0
	}
	n := 1
	for _, vs := range g.Grid {
		n *= len(vs)
	}
	return n
}

// gridDist returns the distribution InferRelativeSpace reports for a grid
// column: Categorical over the strings, or Float over the numbers' range.
func gridDist(vs []any) (Distribution, error) {
	var strs []string
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		switch x := v.(type) {
		case string:
			strs = append(strs, x)
		case float64:
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		case int:
			lo, hi = math.Min(lo, float64(x)), math.Max(hi, float64(x))
		default:
			return Distribution{}, fmt.Errorf("tune: grid value %v (%T) is not a float64, int or string", v, v)
		}
	}
	switch {
	case len(strs) == len(vs) && len(vs) > 0:
		return CategoricalDist(strs...), nil
	case len(strs) == 0 && len(vs) > 0:
		return FloatDist(lo, hi, false), nil
	}
	return Distribution{}, fmt.Errorf("tune: grid mixes strings and numbers or is empty")
}

// InferRelativeSpace implements Sampler: the whole grid.
func (g GridSampler) InferRelativeSpace(*History) map[string]Distribution {
	space := map[string]Distribution{}
	for name, vs := range g.Grid {
		d, err := gridDist(vs)
		if err != nil {
			return nil // SampleRelative reports it
		}
		space[name] = d
	}
	return space
}

// SampleRelative implements Sampler: a random grid point no trial has
// taken, or ErrExhausted.
func (g GridSampler) SampleRelative(h *History, rng *rand.Rand, space map[string]Distribution) (map[string]float64, error) {
	names := g.names()
	dists := make([]Distribution, len(names))
	for i, name := range names {
		d, err := gridDist(g.Grid[name])
		if err != nil {
			return nil, fmt.Errorf("grid parameter %q: %w", name, err)
		}
		dists[i] = d
	}
	n := g.Size()
	if n == 0 {
		return nil, ErrExhausted
	}
	point := func(k int) []float64 {
		p := make([]float64, len(names))
		for i := len(names) - 1; i >= 0; i-- {
			vs := g.Grid[names[i]]
			v, _ := dists[i].Internal(vs[k%len(vs)])
			p[i] = v
			k /= len(vs)
		}
		return p
	}
	taken := make([]bool, n)
	for _, t := range h.Trials {
		if t.RetryOf >= 0 && t.State == Waiting {
			continue
		}
		for k := range n {
			if !taken[k] && g.holds(t, names, point(k)) {
				taken[k] = true
				break
			}
		}
	}
	var free []int
	for k := range n {
		if !taken[k] {
			free = append(free, k)
		}
	}
	if len(free) == 0 {
		return nil, ErrExhausted
	}
	p := point(free[rng.IntN(len(free))])
	out := make(map[string]float64, len(names))
	for i, name := range names {
		out[name] = p[i]
	}
	return out, nil
}

// holds reports whether trial t has the grid point p (in grid-distribution
// internal values).
func (g GridSampler) holds(t FrozenTrial, names []string, p []float64) bool {
	for i, name := range names {
		v, ok := t.Params[name]
		if !ok {
			return false
		}
		gd, _ := gridDist(g.Grid[name])
		gv, ok := gd.Internal(t.Distributions[name].External(v))
		if !ok || gv != p[i] {
			return false
		}
	}
	return true
}

// SampleIndependent implements Sampler: parameters outside the grid are
// drawn at random.
func (GridSampler) SampleIndependent(_ *History, rng *rand.Rand, _ string, d Distribution) (float64, error) {
	return d.sample(rng), nil
}
