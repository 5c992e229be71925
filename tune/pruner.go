package tune

import (
	"hash/fnv"
	"math"
	"slices"
	"strconv"

	"github.com/tabforge/tabforge/internal/stats"
)

// Pruner decides whether a running trial should stop early, from the
// values it reported (t.Intermediate) and the other trials of the study.
// A Pruner must be safe for concurrent use.
//
// Steps are whatever the objective counts: CV folds (report the running
// mean of the fold scores, so steps are comparable across trials) or
// boosting rounds.
type Pruner interface {
	Prune(h *History, t FrozenTrial) bool
}

// MedianPruner prunes a trial whose best value so far is worse than the
// median of the values other Complete trials reported at the same step
// (Optuna's MedianPruner).
type MedianPruner struct {
	// StartupTrials is the number of Complete trials needed before any
	// pruning; 0 means 5.
	StartupTrials int
	// WarmupSteps disables pruning before this step; 0 means none.
	WarmupSteps int
	// MinTrials is the least number of trials reporting at a step for
	// the median to count; 0 means 1.
	MinTrials int
}

var _ Pruner = MedianPruner{}

// Prune implements Pruner.
func (p MedianPruner) Prune(h *History, t FrozenTrial) bool {
	startup := p.StartupTrials
	if startup == 0 {
		startup = 5
	}
	step, ok := t.LastStep()
	if !ok || step < p.WarmupSteps {
		return false
	}
	var at []float64
	nComplete := 0
	for _, o := range h.Trials {
		if o.State != Complete {
			continue
		}
		nComplete++
		if v, ok := o.Intermediate[step]; ok && !math.IsNaN(v) {
			at = append(at, v)
		}
	}
	if nComplete < startup || len(at) < max(1, p.MinTrials) {
		return false
	}
	best := math.NaN()
	for _, v := range t.Intermediate {
		if h.Direction.better(v, best) {
			best = v
		}
	}
	if math.IsNaN(best) {
		return true
	}
	med := stats.Median(at)
	return h.Direction.better(med, best)
}

// SuccessiveHalving is asynchronous successive halving (ASHA; Li et al.,
// 2020), Optuna's SuccessiveHalvingPruner. Rung r sits at step
// MinResource·ReductionFactor^(MinEarlyStoppingRate+r); a trial reaching a
// rung continues only if its value there is in the best 1/ReductionFactor
// of the values all trials reached at that rung (the best one while fewer
// than ReductionFactor trials got there).
type SuccessiveHalving struct {
	// MinResource is the step of the first rung; 0 means 1.
	MinResource int
	// ReductionFactor is η; 0 means 4.
	ReductionFactor int
	// MinEarlyStoppingRate shifts the first rung up by η^rate; 0 means
	// none.
	MinEarlyStoppingRate int
}

var _ Pruner = SuccessiveHalving{}

func (p SuccessiveHalving) resolved() (minRes, eta int) {
	minRes, eta = max(1, p.MinResource), p.ReductionFactor
	if eta == 0 {
		eta = 4
	}
	return minRes, max(2, eta)
}

// Prune implements Pruner.
func (p SuccessiveHalving) Prune(h *History, t FrozenTrial) bool {
	return p.prune(h, t, func(FrozenTrial) bool { return true })
}

// prune runs ASHA against the trials accepted by peer.
func (p SuccessiveHalving) prune(h *History, t FrozenTrial, peer func(FrozenTrial) bool) bool {
	minRes, eta := p.resolved()
	step, ok := t.LastStep()
	if !ok {
		return false
	}
	for rung := 0; ; rung++ {
		at := minRes * ipow(eta, p.MinEarlyStoppingRate+rung)
		if step < at {
			return false
		}
		v, _ := rungValue(t, at)
		if math.IsNaN(v) {
			return true
		}
		competing := []float64{v}
		for _, o := range h.Trials {
			if o.Number == t.Number || !peer(o) {
				continue
			}
			if ov, ok := rungValue(o, at); ok && !math.IsNaN(ov) {
				competing = append(competing, ov)
			}
		}
		if !promotable(v, competing, eta, h.Direction) {
			return true
		}
	}
}

// rungValue returns the value a trial reported at the first step at or
// after rung step at.
func rungValue(t FrozenTrial, at int) (float64, bool) {
	first, found := 0, false
	for s := range t.Intermediate {
		if s >= at && (!found || s < first) {
			first, found = s, true
		}
	}
	if !found {
		return math.NaN(), false
	}
	return t.Intermediate[first], true
}

// promotable reports whether v is within the best len(competing)/eta of
// competing (at least the best one).
func promotable(v float64, competing []float64, eta int, dir Direction) bool {
	k := max(1, len(competing)/eta)
	slices.SortFunc(competing, func(a, b float64) int {
		switch {
		case dir.better(a, b):
			return -1
		case dir.better(b, a):
			return 1
		}
		return 0
	})
	return !dir.better(competing[k-1], v)
}

func ipow(b, e int) int {
	r := 1
	for range e {
		r *= b
	}
	return r
}

// Hyperband runs several SuccessiveHalving brackets side by side (Li et
// al., 2018), as Optuna's HyperbandPruner: bracket s starts pruning at
// MinResource·η^s, so early brackets prune aggressively and late ones
// give every trial more steps. Trials are assigned to brackets by a hash
// of their number, in proportion to each bracket's budget, and compete only
// within their bracket.
type Hyperband struct {
	// MinResource is the first rung's step in the most aggressive bracket;
	// 0 means 1.
	MinResource int
	// MaxResource is the largest step a trial reports (the number of
	// folds, or boosting rounds); 0 means 100.
	MaxResource int
	// ReductionFactor is η; 0 means 3.
	ReductionFactor int
}

var _ Pruner = Hyperband{}

// brackets returns the number of brackets and each one's budget weight.
func (p Hyperband) brackets() (eta int, weights []int) {
	minRes := max(1, p.MinResource)
	maxRes := p.MaxResource
	if maxRes == 0 {
		maxRes = 100
	}
	eta = p.ReductionFactor
	if eta == 0 {
		eta = 3
	}
	eta = max(2, eta)
	n := int(math.Floor(math.Log(float64(max(maxRes, minRes))/float64(minRes))/math.Log(float64(eta))+1e-9)) + 1
	for i := range n {
		s := n - 1 - i
		weights = append(weights, int(math.Ceil(float64(n)*math.Pow(float64(eta), float64(s))/float64(s+1))))
	}
	return eta, weights
}

// Bracket returns the bracket of trial number.
func (p Hyperband) Bracket(number int) int {
	_, w := p.brackets()
	total := 0
	for _, x := range w {
		total += x
	}
	h := fnv.New64a()
	h.Write([]byte(strconv.Itoa(number)))
	k := int(h.Sum64() % uint64(total))
	for i, x := range w {
		if k < x {
			return i
		}
		k -= x
	}
	return len(w) - 1
}

// Prune implements Pruner.
func (p Hyperband) Prune(h *History, t FrozenTrial) bool {
	eta, _ := p.brackets()
	b := p.Bracket(t.Number)
	sh := SuccessiveHalving{MinResource: p.MinResource, ReductionFactor: eta, MinEarlyStoppingRate: b}
	return sh.prune(h, t, func(o FrozenTrial) bool { return p.Bracket(o.Number) == b })
}
