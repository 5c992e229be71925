package tune

import (
	"fmt"
	"math"
	"slices"
)

// Encode is the inverse of Sample: it returns the internal values and
// distributions of the sampled parameters that give params, so a
// configuration found elsewhere (on a similar dataset, by an earlier
// run) can be enqueued as a trial of a study over s. A hidden categorical
// parameter takes the choice whose conditional parameters params agrees
// with best (Fixed ones equal, sampled ones present and in range). A
// numeric value outside its range is clamped into it; a sampled
// parameter params lacks is left out, for the sampler to draw. ok is
// false when params shares no sampled parameter with s.
func (s Space) Encode(params map[string]any) (vals map[string]float64, dists map[string]Distribution, ok bool) {
	vals, dists = map[string]float64{}, map[string]Distribution{}
	chosen := map[string]string{}
	for _, p := range s.Params {
		if p.When != nil {
			c, have := chosen[p.When.Param]
			if !have || !slices.Contains(p.When.Choices, c) {
				continue
			}
		}
		if p.Fixed != nil {
			if str, isStr := p.Fixed.(string); isStr {
				chosen[p.Name] = str
			}
			continue
		}
		var v float64
		var found bool
		switch {
		case p.Hidden && p.Dist.Kind == Categorical:
			v, found = s.bestBranch(p, params), true
		case p.Dist.Kind == Categorical:
			v, found = choiceIndex(p, params[p.Name])
		default:
			var x float64
			if x, found = number(params[p.Name]); found {
				v = math.Min(math.Max(x, p.Dist.Low), p.Dist.High)
				if p.Dist.Kind == Int {
					v = math.Round(v)
				}
			}
		}
		if !found {
			continue
		}
		if p.Dist.Kind == Categorical {
			chosen[p.Name] = p.Dist.Choices[int(v)]
		}
		vals[p.Name], dists[p.Name] = v, p.Dist
	}
	return vals, dists, len(vals) > 0
}

// choiceIndex is the index of the choice of p that emits v.
func choiceIndex(p Param, v any) (float64, bool) {
	if v == nil {
		return 0, false
	}
	for i, c := range p.Dist.Choices {
		emitted := any(c)
		if p.Values != nil && i < len(p.Values) {
			emitted = p.Values[i]
		}
		if fmt.Sprint(emitted) == fmt.Sprint(v) {
			return float64(i), true
		}
	}
	return 0, false
}

// bestBranch picks the choice of the hidden categorical p whose
// conditional parameters agree best with params: +1 per agreeing
// parameter, -1 per disagreeing one; ties go to the first choice.
func (s Space) bestBranch(p Param, params map[string]any) float64 {
	best, bestScore := 0, math.MinInt
	for i, c := range p.Dist.Choices {
		score := 0
		for _, q := range s.Params {
			if q.When == nil || q.When.Param != p.Name || !slices.Contains(q.When.Choices, c) || q.Hidden {
				continue
			}
			v, have := params[q.Name]
			switch {
			case !have:
				score--
			case q.Fixed != nil:
				if fmt.Sprint(q.Fixed) == fmt.Sprint(v) {
					score++
				} else {
					score--
				}
			case q.Dist.Kind == Categorical:
				if _, ok := choiceIndex(q, v); ok {
					score++
				} else {
					score--
				}
			default:
				if x, ok := number(v); ok && x >= q.Dist.Low && x <= q.Dist.High {
					score++
				} else {
					score--
				}
			}
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	return float64(best)
}
