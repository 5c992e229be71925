package tune

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// TPESampler is the Tree-structured Parzen Estimator (Bergstra et al.,
// 2011) with Optuna 3's defaults. After StartupTrials random trials it
// splits the finished trials into the best γ(n) = min(⌈0.1·n⌉, 25)
// ("below") and the rest ("above"), fits a Parzen estimator l(x) to the
// parameters of the first and g(x) to those of the second, draws
// EICandidates points from l and keeps the one maximising l(x)/g(x), the
// expected-improvement criterion. Complete trials rank by value; pruned
// trials rank after them, those that got further first.
//
// Univariate TPE models each parameter on its own, using every trial that
// has it, so conditional parameters need nothing special. With
// Multivariate set, the parameters present in every finished trial with
// the same distribution are modelled jointly, with one product kernel per
// trial (Falkner et al., 2018); the others stay univariate.
//
// The zero value is ready to use.
type TPESampler struct {
	// StartupTrials is the number of finished trials drawn at random
	// before TPE starts; 0 means 10.
	StartupTrials int
	// EICandidates is the number of candidates drawn from l(x); 0 means
	// 24.
	EICandidates int
	// Multivariate models the common parameters jointly.
	Multivariate bool
	// PriorWeight is the weight of the prior component; 0 means 1.
	PriorWeight float64
}

var _ Sampler = TPESampler{}

func (s TPESampler) startup() int {
	if s.StartupTrials == 0 {
		return 10
	}
	return s.StartupTrials
}

func (s TPESampler) candidates() int {
	if s.EICandidates == 0 {
		return 24
	}
	return s.EICandidates
}

func (s TPESampler) priorWeight() float64 {
	if s.PriorWeight == 0 {
		return 1
	}
	return s.PriorWeight
}

// observed returns the trials TPE learns from: Complete ones with a value
// and Pruned ones.
func observed(h *History) []FrozenTrial {
	var out []FrozenTrial
	for _, t := range h.Trials {
		if (t.State == Complete && !math.IsNaN(t.Value)) || t.State == Pruned {
			out = append(out, t)
		}
	}
	return out
}

// splitTrials returns the best γ(n) trials and the rest, each in trial
// order.
func splitTrials(h *History, trials []FrozenTrial) (below, above []FrozenTrial) {
	type key struct {
		rank  int     // 0 complete, 1 pruned with values, 2 pruned without
		step  int     // pruned: −last step
		loss  float64 // oriented value
		index int
	}
	keys := make([]key, len(trials))
	for i, t := range trials {
		k := key{index: i}
		switch {
		case t.State == Complete:
			k.loss = h.loss(t.Value)
		default:
			if s, ok := t.LastStep(); ok {
				k.rank, k.step, k.loss = 1, -s, h.loss(t.Intermediate[s])
			} else {
				k.rank = 2
			}
		}
		if math.IsNaN(k.loss) {
			k.loss = math.Inf(1)
		}
		keys[i] = k
	}
	slices.SortStableFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.step, b.step), cmp.Compare(a.loss, b.loss))
	})
	nBelow := min(int(math.Ceil(0.1*float64(len(trials)))), 25)
	var bi, ai []int
	for i, k := range keys {
		if i < nBelow {
			bi = append(bi, k.index)
		} else {
			ai = append(ai, k.index)
		}
	}
	sort.Ints(bi)
	sort.Ints(ai)
	for _, i := range bi {
		below = append(below, trials[i])
	}
	for _, i := range ai {
		above = append(above, trials[i])
	}
	return below, above
}

// observations returns, for the trials that have every parameter in
// names, their values converted to dists.
func observations(trials []FrozenTrial, names []string, dists []Distribution) [][]float64 {
	var obs [][]float64
next:
	for _, t := range trials {
		row := make([]float64, len(names))
		for j, name := range names {
			v, ok := t.Params[name]
			if !ok {
				continue next
			}
			if td := t.Distributions[name]; !td.Equal(dists[j]) {
				if v, ok = dists[j].Internal(td.External(v)); !ok {
					continue next
				}
			}
			row[j] = v
		}
		obs = append(obs, row)
	}
	return obs
}

// sample runs TPE for the parameters names with distributions dists.
func (s TPESampler) sample(h *History, rng *rand.Rand, names []string, dists []Distribution, multivariate bool) []float64 {
	below, above := splitTrials(h, observed(h))
	l := newParzen(dists, observations(below, names, dists), s.priorWeight(), multivariate)
	g := newParzen(dists, observations(above, names, dists), s.priorWeight(), multivariate)
	best, bestScore := make([]float64, len(dists)), math.Inf(-1)
	x := make([]float64, len(dists))
	for range s.candidates() {
		l.sample(rng, x)
		if score := l.logPDF(x) - g.logPDF(x); score > bestScore || math.IsInf(bestScore, -1) {
			bestScore = score
			copy(best, x)
		}
	}
	return best
}

// InferRelativeSpace implements Sampler: with Multivariate, the
// parameters every finished trial has with the same distribution.
func (s TPESampler) InferRelativeSpace(h *History) map[string]Distribution {
	if !s.Multivariate {
		return nil
	}
	trials := observed(h)
	if len(trials)-h.Lies < s.startup() {
		return nil
	}
	var space map[string]Distribution
	for _, t := range trials {
		if space == nil {
			space = map[string]Distribution{}
			for name, d := range t.Distributions {
				if !d.Single() {
					space[name] = d
				}
			}
			continue
		}
		for name, d := range space {
			if td, ok := t.Distributions[name]; !ok || !td.Equal(d) {
				delete(space, name)
			}
		}
	}
	return space
}

// SampleRelative implements Sampler.
func (s TPESampler) SampleRelative(h *History, rng *rand.Rand, space map[string]Distribution) (map[string]float64, error) {
	if len(space) == 0 || len(observed(h))-h.Lies < s.startup() {
		return nil, nil
	}
	names := make([]string, 0, len(space))
	for name := range space {
		names = append(names, name)
	}
	sort.Strings(names)
	dists := make([]Distribution, len(names))
	for i, name := range names {
		dists[i] = space[name]
	}
	x := s.sample(h, rng, names, dists, true)
	out := make(map[string]float64, len(names))
	for i, name := range names {
		out[name] = x[i]
	}
	return out, nil
}

// SampleIndependent implements Sampler.
func (s TPESampler) SampleIndependent(h *History, rng *rand.Rand, name string, d Distribution) (float64, error) {
	if len(observed(h))-h.Lies < s.startup() {
		return d.sample(rng), nil
	}
	return s.sample(h, rng, []string{name}, []Distribution{d}, false)[0], nil
}
