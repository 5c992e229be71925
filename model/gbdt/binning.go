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
// real cuts.
func (p *paddedCuts) bin(v float32, n int) int {
	i := 0
	if p[i+127] <= v {
		i += 128
	}
	if p[i+63] <= v {
		i += 64
	}
	if p[i+31] <= v {
		i += 32
	}
	if p[i+15] <= v {
		i += 16
	}
	if p[i+7] <= v {
		i += 8
	}
	if p[i+3] <= v {
		i += 4
	}
	if p[i+1] <= v {
		i += 2
	}
	if p[i] <= v {
		i++
	}
	if i > n { // v = +Inf also passes the +Inf padding
		i = n
	}
	return i
}
