// Package stats holds the small order statistics several packages need
// and gonum's stat does not define the same way (its Quantile takes sorted
// data and interpolates differently).
package stats

import (
	"math"
	"slices"
)

// Median returns the median of v, the mean of the middle two values for
// an even count (numpy's percentile 50), or NaN when v is empty. It sorts
// v in place: callers that need their order pass a copy.
func Median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	h := len(v) / 2
	if len(v)%2 == 1 {
		return v[h]
	}
	return (v[h-1] + v[h]) / 2
}
