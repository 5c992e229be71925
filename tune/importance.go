package tune

import (
	"cmp"
	"maps"
	"math"
	"slices"
)

// importanceBins is how many bins a numeric parameter's values fall in
// for its importance; an int or categorical parameter with at most that
// many values gets one bin per value.
const importanceBins = 10

// Axis maps a parameter's internal values to [0, 1]: log10 for a
// log-scaled distribution, choice index for a categorical one, ranged
// by the distribution where it has bounds, else by the values seen.
type Axis struct {
	Name string
	Dist Distribution
	// Min and Max are the range in the mapped scale.
	Min, Max float64
}

// Scale maps the internal value v to [0, 1] on a; 0.5 when a is flat.
func (a *Axis) Scale(v float64) float64 {
	if a.Dist.Log && v > 0 {
		v = math.Log10(v)
	}
	if a.Max == a.Min {
		return .5
	}
	return (v - a.Min) / (a.Max - a.Min)
}

// Axes returns one Axis per parameter in names over trials.
func Axes(trials []FrozenTrial, names []string) []Axis {
	out := make([]Axis, len(names))
	for i, n := range names {
		a := Axis{Name: n, Min: math.Inf(1), Max: math.Inf(-1)}
		for j := range trials {
			v, ok := trials[j].Params[n]
			if !ok {
				continue
			}
			a.Dist = trials[j].Distributions[n]
			if a.Dist.Log && v > 0 {
				v = math.Log10(v)
			}
			a.Min, a.Max = math.Min(a.Min, v), math.Max(a.Max, v)
		}
		switch {
		case a.Dist.Kind == Categorical && len(a.Dist.Choices) > 0:
			a.Min, a.Max = 0, float64(len(a.Dist.Choices)-1)
		case a.Dist.High > a.Dist.Low:
			a.Min, a.Max = a.Dist.Low, a.Dist.High
			if a.Dist.Log && a.Min > 0 {
				a.Min, a.Max = math.Log10(a.Min), math.Log10(a.Max)
			}
		}
		out[i] = a
	}
	return out
}

// Scored returns the complete trials with a finite value.
func Scored(trials []FrozenTrial) []*FrozenTrial {
	var out []*FrozenTrial
	for i := range trials {
		t := &trials[i]
		if t.State == Complete && !math.IsNaN(t.Value) && !math.IsInf(t.Value, 0) {
			out = append(out, t)
		}
	}
	return out
}

// ParamImportance is one parameter's share of the objective's variance.
type ParamImportance struct {
	Name  string  `json:"name"`
	Share float64 `json:"share"` // Eta2 over the sum over parameters, in [0, 1]
	Eta2  float64 `json:"eta2"`  // fraction of the objective's variance its marginal explains
}

// Importance ranks the parameters of trials' complete trials with a
// finite value, most important first, by a fANOVA-like first-order main
// effect estimated without a surrogate: each parameter's values are
// binned on its Axis (importanceBins equal-width bins; one bin per value
// for categoricals and small int ranges), the objective is averaged per
// bin, and the variance of those marginal means (weighted by bin size)
// over the objective's total variance is the parameter's η², the
// fraction of variance its marginal explains. Shares normalise η² over
// parameters. Interactions are not attributed, unlike Optuna's fANOVA
// evaluator, which fits a random forest. It returns nil with fewer than
// two such trials. One pass per parameter: O(trials × parameters).
func Importance(trials []FrozenTrial) []ParamImportance {
	names := map[string]bool{}
	for i := range trials {
		for k := range trials[i].Params {
			names[k] = true
		}
	}
	return ImportanceOn(Scored(trials), Axes(trials, slices.Sorted(maps.Keys(names))))
}

// ImportanceOn is Importance over the scored trials sc (Scored) on the
// axes ax (Axes), for a caller that has them already.
func ImportanceOn(sc []*FrozenTrial, ax []Axis) []ParamImportance {
	if len(sc) < 2 {
		return nil
	}
	var mean, total float64
	for _, t := range sc {
		mean += t.Value
	}
	mean /= float64(len(sc))
	for _, t := range sc {
		total += (t.Value - mean) * (t.Value - mean)
	}
	out := make([]ParamImportance, 0, len(ax))
	var sum float64
	for i := range ax {
		row := ParamImportance{Name: ax[i].Name}
		if total > 0 {
			row.Eta2 = marginalVariance(sc, &ax[i], mean) / total
		}
		sum += row.Eta2
		out = append(out, row)
	}
	for i := range out {
		if sum > 0 {
			out[i].Share = out[i].Eta2 / sum
		}
	}
	slices.SortStableFunc(out, func(a, b ParamImportance) int { return cmp.Compare(b.Share, a.Share) })
	return out
}

// marginalVariance is the bin-size-weighted sum of squared deviations of
// the objective's per-bin means on a from mean.
func marginalVariance(sc []*FrozenTrial, a *Axis, mean float64) float64 {
	bins := importanceBins
	perValue := a.Dist.Kind == Categorical || (a.Dist.Kind == Int && !a.Dist.Log && a.Max-a.Min < importanceBins)
	if perValue {
		bins = int(a.Max-a.Min) + 1
	}
	sums, counts := make([]float64, bins), make([]float64, bins)
	for _, t := range sc {
		v, ok := t.Params[a.Name]
		if !ok {
			continue
		}
		b := min(bins-1, max(0, int(a.Scale(v)*float64(bins))))
		if perValue {
			b = min(bins-1, max(0, int(math.Round(a.Scale(v)*(a.Max-a.Min)))))
		}
		sums[b] += t.Value
		counts[b]++
	}
	var between float64
	for b := range bins {
		if counts[b] > 0 {
			m := sums[b] / counts[b]
			between += counts[b] * (m - mean) * (m - mean)
		}
	}
	return between
}
