package ui

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tabforge/tabforge/tune"
)

// A study's analysis draws every complete trial but keeps each SVG
// small: points are snapped to whole pixels and drawn once per pixel, so
// a slice plot of 10,000 trials is a few thousand path commands, and the
// parallel coordinates draw at most maxLines trials.

// importanceBins is how many bins a numeric parameter's values fall in
// for its importance; an int or categorical parameter with at most that
// many values gets one bin per value.
const importanceBins = 10

// maxLines bounds the parallel-coordinate lines: the best maxLines/10
// complete trials and an even sample of the rest.
const maxLines = 1000

// axis maps a parameter's internal values to [0, 1]: log10 for a
// log-scaled distribution, choice index for a categorical one.
type axis struct {
	Name   string
	dist   tune.Distribution
	lo, hi float64 // in the mapped scale
	Lo, Hi string  // labels
}

func (a *axis) scale(v float64) float64 {
	if a.dist.Log && v > 0 {
		v = math.Log10(v)
	}
	if a.hi == a.lo {
		return .5
	}
	return (v - a.lo) / (a.hi - a.lo)
}

// axes returns one axis per parameter in names, ranged by the
// distribution where it has bounds, else by the values seen.
func axes(trials []tune.FrozenTrial, names []string) []axis {
	out := make([]axis, len(names))
	for i, n := range names {
		a := axis{Name: n, lo: math.Inf(1), hi: math.Inf(-1)}
		for j := range trials {
			v, ok := trials[j].Params[n]
			if !ok {
				continue
			}
			a.dist = trials[j].Distributions[n]
			if a.dist.Log && v > 0 {
				v = math.Log10(v)
			}
			a.lo, a.hi = math.Min(a.lo, v), math.Max(a.hi, v)
		}
		switch {
		case a.dist.Kind == tune.Categorical && len(a.dist.Choices) > 0:
			a.lo, a.hi = 0, float64(len(a.dist.Choices)-1)
			a.Lo, a.Hi = a.dist.Choices[0], a.dist.Choices[len(a.dist.Choices)-1]
		case a.dist.High > a.dist.Low:
			a.lo, a.hi = a.dist.Low, a.dist.High
			if a.dist.Log && a.lo > 0 {
				a.lo, a.hi = math.Log10(a.lo), math.Log10(a.hi)
			}
			a.Lo, a.Hi = num(a.dist.Low), num(a.dist.High)
		case !math.IsInf(a.lo, 1):
			a.Lo, a.Hi = num(a.lo), num(a.hi)
		}
		out[i] = a
	}
	return out
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) }

// scored are the complete trials with a finite value.
func scored(trials []tune.FrozenTrial) []*tune.FrozenTrial {
	var out []*tune.FrozenTrial
	for i := range trials {
		t := &trials[i]
		if t.State == tune.Complete && !math.IsNaN(t.Value) && !math.IsInf(t.Value, 0) {
			out = append(out, t)
		}
	}
	return out
}

// importanceRow is one parameter's share of the objective's variance.
type importanceRow struct {
	Name  string
	Share float64 // of the sum over parameters, in [0, 1]
	Eta2  float64 // fraction of the objective's variance its marginal explains
	Bar   int     // bar width in px, of 300
}

// importance ranks parameters by a fANOVA-like first-order main effect
// estimated without a surrogate: each parameter's values are binned
// (importanceBins equal-width bins on its axis scale; one bin per value
// for categoricals and small int ranges), the objective is averaged per
// bin, and the variance of those marginal means (weighted by bin size)
// over the objective's total variance is the parameter's η², the
// fraction of variance its marginal explains. Shares normalise η² over
// parameters. Interactions are not attributed. One pass per parameter:
// O(trials × parameters).
func importance(sc []*tune.FrozenTrial, ax []axis) []importanceRow {
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
	out := make([]importanceRow, 0, len(ax))
	var sum float64
	for i := range ax {
		a := &ax[i]
		bins := importanceBins
		perValue := a.dist.Kind == tune.Categorical || (a.dist.Kind == tune.Int && !a.dist.Log && a.hi-a.lo < importanceBins)
		if perValue {
			bins = int(a.hi-a.lo) + 1
		}
		sums, counts := make([]float64, bins), make([]float64, bins)
		for _, t := range sc {
			v, ok := t.Params[a.Name]
			if !ok {
				continue
			}
			b := min(bins-1, max(0, int(a.scale(v)*float64(bins))))
			if perValue {
				b = min(bins-1, max(0, int(math.Round(a.scale(v)*(a.hi-a.lo)))))
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
		row := importanceRow{Name: a.Name}
		if total > 0 {
			row.Eta2 = between / total
		}
		sum += row.Eta2
		out = append(out, row)
	}
	for i := range out {
		if sum > 0 {
			out[i].Share = out[i].Eta2 / sum
		}
		out[i].Bar = int(math.Round(300 * out[i].Share))
	}
	slices.SortStableFunc(out, func(a, b importanceRow) int { return cmp.Compare(b.Share, a.Share) })
	return out
}

// pixels writes "M x y h0" once per distinct whole-pixel point: a path
// of round dots whose size does not grow with the number of points
// beyond the plot's area.
type pixels struct {
	seen map[[2]int]bool
	b    strings.Builder
}

func (p *pixels) dot(x, y float64) {
	k := [2]int{int(math.Round(x)), int(math.Round(y))}
	if p.seen == nil {
		p.seen = map[[2]int]bool{}
	}
	if p.seen[k] {
		return
	}
	p.seen[k] = true
	fmt.Fprintf(&p.b, "M%d %dh0", k[0], k[1])
}

// valueRange is the objective's range over sc, widened when flat.
func valueRange(sc []*tune.FrozenTrial) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, t := range sc {
		lo, hi = math.Min(lo, t.Value), math.Max(hi, t.Value)
	}
	if hi == lo {
		lo, hi = lo-1, hi+1
	}
	return lo, hi
}
