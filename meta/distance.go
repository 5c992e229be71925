package meta

import (
	"math"
	"slices"
	"sort"
)

// MinKnownForSpread is the fewest known datasets from which a Scaler
// measures spreads and FarThreshold a threshold; below it they use the
// catalogue's defaults.
const MinKnownForSpread = 5

// DefaultFarThreshold is the far-from-known threshold while fewer than
// MinKnownForSpread datasets of a task are known: a mean difference of
// two default spreads per meta-feature.
const DefaultFarThreshold = 2.0

// Scaler measures distances between datasets' meta-features. Its zero
// value is not usable; build one with NewScaler.
type Scaler struct {
	specs []Spec
	scale map[string]float64
}

// NewScaler returns the scaler of a knowledge base holding known: each
// meta-feature's transformed values are divided by their robust spread
// among the known datasets (interquartile range / 1.349, which is the
// standard deviation for normal data but ignores outlying datasets),
// never less than the feature's Spec.Min. A meta-feature known on fewer
// than MinKnownForSpread datasets uses its Spec.Default.
func NewScaler(known []*Features) Scaler {
	s := Scaler{specs: Catalogue(), scale: map[string]float64{}}
	for _, sp := range s.specs {
		var vals []float64
		for _, f := range known {
			if v, ok := f.Values[sp.Name]; ok {
				vals = append(vals, sp.transform.apply(v))
			}
		}
		s.scale[sp.Name] = sp.Default
		if len(vals) >= MinKnownForSpread {
			sort.Float64s(vals)
			iqr := quantile(vals, 0.75) - quantile(vals, 0.25)
			// Quartiles a float holds may differ by more than it holds (a
			// knowledge base file is untrusted): an infinite spread would
			// make |a−b|/spread NaN for infinitely different values.
			s.scale[sp.Name] = min(math.Max(iqr/1.349, sp.Min), math.MaxFloat64)
		}
	}
	return s
}

// Scale returns the spread a meta-feature's transformed values are
// divided by.
func (s Scaler) Scale(name string) float64 { return s.scale[name] }

// Distance is the weighted mean over the meta-features a and b both have
// of |T(a) − T(b)| / scale, T the feature's transform: 0 for equal
// meta-features, about 1 when they differ by a typical spread each. It
// is +Inf when a and b share no meta-feature or differ in task.
func (s Scaler) Distance(a, b *Features) float64 {
	if a.Task != b.Task {
		return math.Inf(1)
	}
	var sum, w float64
	for _, sp := range s.specs {
		va, oka := a.Values[sp.Name]
		vb, okb := b.Values[sp.Name]
		if !oka || !okb {
			continue
		}
		sum += sp.Weight * math.Abs(sp.transform.apply(va)-sp.transform.apply(vb)) / s.scale[sp.Name]
		w += sp.Weight
	}
	if w == 0 {
		return math.Inf(1)
	}
	return sum / w
}

// FarThreshold is the distance beyond which a dataset counts as far from
// every known one, calibrated on known by leave-one-out: each known
// dataset's distance to its nearest other known dataset of the same task
// is what "near" looks like in this knowledge base, and the threshold is
// Tukey's upper fence of those distances, Q3 + 1.5·IQR, so that a new
// dataset is far when its nearest distance would be an outlier among
// them. With fewer than MinKnownForSpread known datasets of a task (too
// few for quartiles) it is DefaultFarThreshold. The rule is returned in
// words for reports.
func FarThreshold(s Scaler, known []*Features) (float64, string) {
	var nearest []float64
	for i, a := range known {
		best := math.Inf(1)
		for j, b := range known {
			if i != j {
				best = math.Min(best, s.Distance(a, b))
			}
		}
		if !math.IsInf(best, 1) {
			nearest = append(nearest, best)
		}
	}
	if len(nearest) < MinKnownForSpread {
		return DefaultFarThreshold, "default: fewer than 5 known datasets of this task"
	}
	slices.Sort(nearest)
	q1, q3 := quantile(nearest, 0.25), quantile(nearest, 0.75)
	// Capped: a fence beyond what a float holds still says no finite
	// distance is far, and +Inf would not encode as JSON.
	return min(q3+1.5*(q3-q1), math.MaxFloat64), "Q3 + 1.5·IQR of the known datasets' leave-one-out nearest distances"
}

// quantile is the q-quantile of sorted values by linear interpolation
// (numpy's default).
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	frac, d := pos-float64(lo), sorted[hi]-sorted[lo]
	if math.IsInf(d, 0) {
		// Neighbours too far apart for their difference to be a float:
		// frac·(+Inf) is NaN at frac 0 and +Inf otherwise; the weighted
		// mean of the two stays between them.
		return sorted[lo]*(1-frac) + sorted[hi]*frac
	}
	return sorted[lo] + frac*d
}
