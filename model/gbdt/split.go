package gbdt

import (
	"cmp"
	"math"
	"math/bits"
	"slices"

	"github.com/tabforge/tabforge/model"
)

// rtEps is XGBoost's kRtEps, the least gain that counts as a split in
// its loss units; see minGain.
const rtEps = 1e-6

// minGainFloor bounds minGain below, so that the products mayBeat compares
// stay normal floats.
const minGainFloor = 1e-30

// minGain is the least gain that counts as a split when fitting d under
// c. XGBoost's kRtEps is absolute, in the loss's units, so under squared
// error it is a different share of the target's variance at every scale:
// targets in units of 1e-4 or smaller never split and the model predicts
// their mean. Where the gradient is the residual (squared error, and
// pseudo-Huber up to its slope), the threshold therefore shrinks with
// the target's variance below 1, so a target trains as its rescaled copy
// would; at a variance of 1 or more, and under the losses whose gradients
// do not scale with the target, it is kRtEps and the trees stay XGBoost's.
func minGain(c *config, d *model.Dataset) float64 {
	var scale float64
	switch c.objective {
	case SquaredError:
		scale = weightedVariance(d.Y, d.Weights)
	case Huber:
		scale = min(weightedVariance(d.Y, d.Weights), c.huberSlope*c.huberSlope)
	default:
		return rtEps
	}
	if !(scale < 1) {
		return rtEps
	}
	return max(rtEps*scale, minGainFloor)
}

// splitGain is the least gain of a split under c: minGain as boost set
// it, kRtEps in a config made without it.
func (c *config) splitGain() float64 {
	if c.minGain > 0 {
		return c.minGain
	}
	return rtEps
}

// weightedVariance is Σw·(y−ȳ)²/Σw, 0 without weight.
func weightedVariance(y, w []float64) float64 {
	mean := weightedMean(y, w)
	var s, sw float64
	for r, v := range y {
		wr := weightAt(w, r)
		s += wr * (v - mean) * (v - mean)
		sw += wr
	}
	if sw == 0 {
		return 0
	}
	return s / sw
}

// splitInfo is the best split found for a node.
type splitInfo struct {
	ok          bool
	gain        float64 // loss reduction, XGBoost's loss_chg
	feature     int
	bin         int  // numeric: value bins 0..bin go left
	defaultLeft bool // where missing values go
	left, right gpair
	cat         bool      // a categorical split:
	catBins     [4]uint64 // the value bins that go left, as a bitset
}

// leftTable returns, for every code of the split feature (missing is its
// missing-value code), 1 if rows with that code go left.
func (s *splitInfo) leftTable(missing int) *[256]uint8 {
	var t [256]uint8
	for c := range 256 {
		var left bool
		switch {
		case c == missing:
			left = s.defaultLeft
		case s.cat:
			left = s.catBins[c>>6]>>(c&63)&1 == 1
		default:
			left = c <= s.bin
		}
		if left {
			t[c] = 1
		}
	}
	return &t
}

// better reports whether s beats t; ties keep t, so the first feature and
// bin in scan order win, whatever the scan's parallel schedule.
func (s *splitInfo) better(t *splitInfo) bool { return s.ok && (!t.ok || s.gain > t.gain) }

// thresholdL1 is XGBoost's soft-thresholding of a gradient sum by alpha.
func thresholdL1(g, alpha float64) float64 {
	switch {
	case g > alpha:
		return g - alpha
	case g < -alpha:
		return g + alpha
	}
	return 0
}

// nodeScore is T(G)²/(H+λ), a node's contribution to the gain.
func (c *config) nodeScore(s gpair) float64 {
	d := s.h + c.lambda
	if d <= 0 {
		return 0
	}
	t := thresholdL1(s.g, c.alpha)
	return t * t / d
}

// leafWeight is the optimal leaf value −T(G)/(H+λ), before shrinkage; 0
// when the hessian sum is below min_child_weight (XGBoost's CalcWeight).
func (c *config) leafWeight(s gpair) float64 {
	d := s.h + c.lambda
	if s.h < c.minChildWeight || s.h <= 0 || d <= 0 {
		return 0
	}
	return -thresholdL1(s.g, c.alpha) / d
}

// mayBeat reports whether children whose soft-thresholded gradient sums
// are tl and tr and whose H+λ are dl and dr may score above bar, the
// parent's score plus the gain to beat, without dividing: T(G_L)²·d_R +
// T(G_R)²·d_L against bar·d_L·d_R. Its margin of 1e-12 of bar lies far
// above the few ulps both sides are rounded by, so every split whose gain,
// computed as nodeScore computes it, passes the caller's test also passes
// this one: the trees are the same, and the two divisions are spent only
// on candidates near the best so far. It is small enough to inline into
// the scan, which doubles the scan's speed on full histograms.
func mayBeat(tl, tr, dl, dr, bar float64) bool {
	// Where the products lose the precision the margin assumes, the
	// divided gains decide: a product that overflows; d < tinyD, which
	// covers d ≤ 0 (a negative λ; nodeScore has its own edge case) and
	// products that underflow (bar ≥ minGainFloor, so bar·d_L·d_R stays normal
	// above it); and a NaN sum, which nodeScore's thresholdL1 scores as 0.
	rhs := bar * (1 - 1e-12) * dl * dr
	return !(tl*tl*dr+tr*tr*dl <= rhs) || rhs > math.MaxFloat64 || dl < tinyD || dr < tinyD
}

// tinyD is the least H+λ whose products mayBeat trusts: far below any
// hessian sum of float32 gradients (2⁻¹⁴⁹ at least), so it costs no
// divisions in training.
const tinyD = 0x1p-400

// soft2 is thresholdL1 of two gradient sums for mayBeat; the scan calls
// it only under L1 regularisation (T(g) = g without), since its branches
// on the sign of g mispredict half the time.
func (c *config) soft2(l, r gpair) (float64, float64) {
	return thresholdL1(l.g, c.alpha), thresholdL1(r.g, c.alpha)
}

// splitFloor is a hessian sum below which a node has no split: each
// child needs min_child_weight, and r.h = sum.h − l.h rounds to at least
// mcw only if sum.h ≥ mcw·(2 − 2⁻⁵²), so below 2·mcw·(1 − 1e-12) the
// scans (bestSplit, bestSplitCat) would reject every candidate. A
// 200-class softmax fit spends most of its trees on classes whose rows'
// hessians 2p(1−p) have shrunk to nothing; their nodes were scanned bin
// by bin all the same.
func (c *config) splitFloor() float64 {
	if c.minChildWeight <= 0 {
		return math.Inf(-1)
	}
	return 2 * c.minChildWeight * (1 - 1e-12)
}

// occupied returns the mask of the value bins a split scan must visit:
// bin 0 (when there are two value bins or more; with missing values it is
// also the split "missing left, every value right") and every other bin
// below nValue-1 that is not empty. Deep nodes hold far fewer rows than
// bins, so most of their bins are empty, and a branch per bin on emptiness
// mispredicts as often as bins alternate; the mask is built without one.
func occupied(h *[histStride]histBin, nValue int) [histStride / 64]uint64 {
	var occ [histStride / 64]uint64
	for wi := range occ {
		var w uint64 // a register, not a store and load per bin
		for b := max(wi<<6, 1); b < min(wi<<6+64, nValue-1); b++ {
			x := (math.Float64bits(h[b].g) | math.Float64bits(h[b].h)) << 1 // ±0 → 0
			w |= (x | -x) >> 63 << (b & 63)
		}
		occ[wi] = w
	}
	if nValue > 1 {
		occ[0] |= 1
	}
	return occ
}

// bestSplit scans feature f's bins of node histogram h (node sums sum)
// and updates best. Each threshold is tried with missing values going
// right and, if the node has any, going left.
func (c *config) bestSplit(best *splitInfo, h *[histStride]histBin, f, nValue int, sum gpair, parentScore float64) {
	miss := h[nValue]
	hasMiss := miss.h > 0
	if nValue < 2 && !hasMiss {
		return
	}
	mcw, lam, l1 := c.minChildWeight, c.lambda, c.alpha != 0
	// bar is what a candidate's children must score: the parent's score
	// plus minGain or the best gain so far, whichever a split must exceed.
	eps := c.splitGain()
	bar := parentScore + eps
	if best.ok {
		bar = parentScore + max(best.gain, eps)
	}
	// An empty bin leaves the sums, and so both gains, as at the bin
	// before it; ties keep the earlier threshold, so skipping it changes
	// nothing.
	occ := occupied(h, nValue)
	var l gpair
	for wi, w := range occ {
		for ; w != 0; w &= w - 1 {
			b := wi<<6 + bits.TrailingZeros64(w)
			l.g += h[b].g
			l.h += h[b].h
			r := gpair{sum.g - l.g, sum.h - l.h}
			tl, tr := l.g, r.g
			if l1 {
				tl, tr = c.soft2(l, r)
			}
			if l.h >= mcw && r.h >= mcw && l.h > 0 && r.h > 0 && mayBeat(tl, tr, l.h+lam, r.h+lam, bar) {
				gain := c.nodeScore(l) + c.nodeScore(r) - parentScore
				if gain > eps && (!best.ok || gain > best.gain) {
					*best = splitInfo{ok: true, gain: gain, feature: f, bin: b, left: l, right: r,
						defaultLeft: !hasMiss && l.h >= r.h}
					bar = parentScore + max(gain, eps)
				}
			}
			if hasMiss {
				l2 := gpair{l.g + miss.g, l.h + miss.h}
				r2 := gpair{sum.g - l2.g, sum.h - l2.h}
				tl, tr := l2.g, r2.g
				if l1 {
					tl, tr = c.soft2(l2, r2)
				}
				if l2.h >= mcw && r2.h >= mcw && l2.h > 0 && r2.h > 0 && mayBeat(tl, tr, l2.h+lam, r2.h+lam, bar) {
					gain := c.nodeScore(l2) + c.nodeScore(r2) - parentScore
					if gain > eps && (!best.ok || gain > best.gain) {
						*best = splitInfo{ok: true, gain: gain, feature: f, bin: b, left: l2, right: r2, defaultLeft: true}
						bar = parentScore + max(gain, eps)
					}
				}
			}
		}
	}
	// All values left, missing values right: the threshold is the largest
	// float32, above every (finite) training value.
	if hasMiss {
		// l holds bins 0..nValue-2 summed in order (empty ones add
		// nothing), so this is the sum of every value bin in bin order.
		all := gpair{l.g + h[nValue-1].g, l.h + h[nValue-1].h}
		r := gpair{sum.g - all.g, sum.h - all.h}
		if all.h >= mcw && r.h >= mcw && all.h > 0 && r.h > 0 {
			gain := c.nodeScore(all) + c.nodeScore(r) - parentScore
			if gain > eps && (!best.ok || gain > best.gain) {
				*best = splitInfo{ok: true, gain: gain, feature: f, bin: nValue - 1, left: all, right: r}
			}
		}
	}
}

// Regularisation of categorical splits, LightGBM's defaults
// (docs/Parameters.rst): categories are ordered by G/(H+catSmooth), a
// category needs a hessian sum of minCatHess (min_data_per_group, with
// hessians for counts) to be placed on the left, the left set holds at
// most maxCatLeft categories (max_cat_threshold), and the split's gain is
// computed with λ + catL2.
const (
	catSmooth  = 10
	catL2      = 10
	minCatHess = 100
	maxCatLeft = 32
)

// catStat is one category's gradient sums in a node.
type catStat struct {
	bin int
	s   gpair
}

// bestSplitCat is bestSplit for a categorical feature: the categories
// present in the node with enough hessian are sorted by G/(H+catSmooth)
// (ties by bin) and prefixes of up to maxCatLeft categories, taken from
// either end of that order, are tried as the left set, with missing
// values on either side.
func (c *config) bestSplitCat(best *splitInfo, h *[histStride]histBin, f, nValue int, sum gpair, _ float64) {
	miss := h[nValue]
	hasMiss := miss.h > 0
	cats := make([]catStat, 0, nValue)
	for b := range nValue {
		if h[b].h >= minCatHess {
			cats = append(cats, catStat{b, gpair{h[b].g, h[b].h}})
		}
	}
	if len(cats) == 0 {
		return
	}
	slices.SortStableFunc(cats, func(a, b catStat) int {
		return cmp.Compare(a.s.g/(a.s.h+catSmooth), b.s.g/(b.s.h+catSmooth))
	})
	cc := *c
	cc.lambda += catL2
	parentScore := cc.nodeScore(sum)
	mcw := c.minChildWeight
	try := func(l gpair, bins [4]uint64, defaultLeft bool) {
		r := gpair{sum.g - l.g, sum.h - l.h}
		if l.h < mcw || r.h < mcw || l.h <= 0 || r.h <= 0 {
			return
		}
		gain := cc.nodeScore(l) + cc.nodeScore(r) - parentScore
		if gain > c.splitGain() && (!best.ok || gain > best.gain) {
			*best = splitInfo{ok: true, gain: gain, feature: f, cat: true, catBins: bins, left: l, right: r, defaultLeft: defaultLeft}
		}
	}
	for _, reverse := range []bool{false, true} {
		var l gpair
		var bins [4]uint64
		for i := range min(len(cats), maxCatLeft) {
			cs := cats[i]
			if reverse {
				cs = cats[len(cats)-1-i]
			}
			l.g += cs.s.g
			l.h += cs.s.h
			bins[cs.bin>>6] |= 1 << (cs.bin & 63)
			try(l, bins, false)
			if hasMiss {
				try(gpair{l.g + miss.g, l.h + miss.h}, bins, true)
			}
		}
	}
}
