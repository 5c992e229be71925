package gbdt

import "math"

// maxCuts is the most thresholds a feature can have: 255 value bins plus
// the missing bin fill a uint8 code.
const maxCuts = 254

// cutsFromSorted returns the bin thresholds of one feature from its sorted,
// non-missing float32 values v (a sample of the training column). Bin b
// holds the values x with cuts[b-1] <= x < cuts[b], so a split after bin b
// sends x left exactly when x < cuts[b] — XGBoost's split rule. With at most
// maxBins distinct values every value gets its own bin (the threshold is the
// next distinct value); otherwise the cuts are the values at the
// k/maxBins quantiles, k = 1..maxBins−1, with duplicates dropped, so heavy
// values can leave fewer bins. Quantiles count rows, not hessians.
func cutsFromSorted(v []float32, maxBins int) []float32 {
	if len(v) == 0 || maxBins < 2 {
		return nil
	}
	distinct := 1
	for i := 1; i < len(v); i++ {
		if v[i] != v[i-1] {
			distinct++
		}
	}
	if distinct <= maxBins {
		cuts := make([]float32, 0, distinct-1)
		for i := 1; i < len(v); i++ {
			if v[i] != v[i-1] {
				cuts = append(cuts, v[i])
			}
		}
		return cuts
	}
	n := len(v)
	cuts := make([]float32, 0, maxBins-1)
	for k := 1; k < maxBins; k++ {
		q := v[k*n/maxBins]
		if q > v[0] && (len(cuts) == 0 || q > cuts[len(cuts)-1]) {
			cuts = append(cuts, q)
		}
	}
	return cuts
}

// paddedCuts is a feature's cuts padded with +Inf to 256 entries, for a
// branch-free binary search.
type paddedCuts [256]float32

func padCuts(cuts []float32) *paddedCuts {
	var p paddedCuts
	for i := range p {
		p[i] = float32(math.Inf(1))
	}
	copy(p[:], cuts)
	return &p
}

// bin returns the number of cuts <= v for a non-NaN v; n is the number of
// real cuts. It is a branch-free binary search: each comparison becomes a
// 0/1 step (the comparisons are unpredictable), and indices are masked
// with &255, which never changes them (they stay below 255) but lets the
// compiler drop bounds checks.
func (p *paddedCuts) bin(v float32, n int) int {
	i := 128 * b2i(p[127] <= v)
	i += 64 * b2i(p[(i+63)&255] <= v)
	i += 32 * b2i(p[(i+31)&255] <= v)
	i += 16 * b2i(p[(i+15)&255] <= v)
	i += 8 * b2i(p[(i+7)&255] <= v)
	i += 4 * b2i(p[(i+3)&255] <= v)
	i += 2 * b2i(p[(i+1)&255] <= v)
	i += b2i(p[i&255] <= v)
	return min(i, n) // v = +Inf also passes the +Inf padding
}

// b2i is 1 for true and 0 for false; the compiler emits a SETcc.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
