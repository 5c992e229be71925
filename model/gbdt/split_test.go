package gbdt

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// mayBeatPair is mayBeat as bestSplit calls it on children l and r.
func (c *config) mayBeatPair(l, r gpair, bar float64) bool {
	tl, tr := c.soft2(l, r)
	return mayBeat(tl, tr, l.h+c.lambda, r.h+c.lambda, bar)
}

// TestMayBeatKeepsEverySplit checks the safety of split finding's
// division-free prefilter: whenever a candidate's gain, computed as
// bestSplit computes it, exceeds the gain to beat, mayBeat lets it through
// (so the trees are those of computing every gain), including gains equal
// to the bar up to the last few ulps, and it rejects clear losers.
func TestMayBeatKeepsEverySplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	rejected := 0
	for _, reg := range []struct{ lambda, alpha float64 }{{1, 0}, {0, 0}, {1, 0.5}, {10, 3}, {1e-6, 0}} {
		c := &config{lambda: reg.lambda, alpha: reg.alpha}
		for range 20000 {
			scale := math.Pow(10, float64(rng.IntN(12)-4))
			if rng.IntN(20) == 0 {
				scale = math.Pow(10, float64(140+rng.IntN(20))) // products overflow
			}
			l := gpair{rng.NormFloat64() * scale, rng.Float64() * scale}
			r := gpair{rng.NormFloat64() * scale, rng.Float64() * scale}
			parent := c.nodeScore(gpair{l.g + r.g, l.h + r.h})
			gain := c.nodeScore(l) + c.nodeScore(r) - parent
			// The bar just below the gain, by 0 to 8 ulps of the gain.
			thr := gain
			for range rng.IntN(9) {
				thr = math.Nextafter(thr, math.Inf(-1))
			}
			if gain > thr && !c.mayBeatPair(l, r, parent+thr) {
				t.Fatalf("λ=%g α=%g: l=%v r=%v gain %v beats %v, mayBeat says no", reg.lambda, reg.alpha, l, r, gain, thr)
			}
			if gain > 0 && !c.mayBeatPair(l, r, parent+gain*0.5) {
				t.Fatalf("λ=%g α=%g: l=%v r=%v gain %v beats half of it, mayBeat says no", reg.lambda, reg.alpha, l, r, gain)
			}
			if c.mayBeatPair(l, r, parent+2*gain+1e-3*parent+1e-9) {
				continue
			}
			rejected++
		}
	}
	if rejected == 0 {
		t.Fatal("mayBeat rejected no clear loser: it filters nothing")
	}
}

// refBestSplit is bestSplit as its definition reads: every threshold,
// every gain computed in full, missing values right and (when present)
// left, then all values left with missing values right. best is the best
// split of the features scanned before f.
func refBestSplit(c *config, best splitInfo, h *[histStride]histBin, f, nValue int, sum gpair) splitInfo {
	ps := c.nodeScore(sum)
	hasMiss := h[nValue].h > 0
	try := func(l gpair, b int, defaultLeft bool) {
		r := gpair{sum.g - l.g, sum.h - l.h}
		if l.h < c.minChildWeight || r.h < c.minChildWeight || l.h <= 0 || r.h <= 0 {
			return
		}
		if gain := c.nodeScore(l) + c.nodeScore(r) - ps; gain > rtEps && (!best.ok || gain > best.gain) {
			best = splitInfo{ok: true, gain: gain, feature: f, bin: b, left: l, right: r, defaultLeft: defaultLeft}
		}
	}
	var l gpair
	for b := 0; b < nValue-1; b++ {
		l.g += h[b].g
		l.h += h[b].h
		try(l, b, !hasMiss && l.h >= sum.h-l.h)
		if hasMiss {
			try(gpair{l.g + h[nValue].g, l.h + h[nValue].h}, b, true)
		}
	}
	if hasMiss {
		var all gpair
		for b := range nValue {
			all.g += h[b].g
			all.h += h[b].h
		}
		try(all, nValue-1, false)
	}
	return best
}

// TestBestSplitMatchesDefinition compares bestSplit (empty bins skipped
// through an occupancy mask, gains prefiltered by mayBeat) with
// refBestSplit on random histograms: few or many occupied bins, with and
// without missing values, empty first bins, one or two value bins.
func TestBestSplitMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 4))
	for trial := range 4000 {
		c := &config{lambda: []float64{1, 0, 5}[trial%3], alpha: []float64{0, 0, 0.7, 0}[trial%4],
			minChildWeight: []float64{0, 1, 3}[trial%3]}
		nValue := 1 + rng.IntN(255)
		if trial%10 == 0 {
			nValue = 1 + rng.IntN(3)
		}
		var h [histStride]histBin
		fill := rng.Float64()
		var sum gpair
		for b := 0; b <= nValue; b++ {
			if rng.Float64() < fill && (b > 0 || trial%4 != 0) {
				n := float64(1 + rng.IntN(5))
				h[b] = histBin{rng.NormFloat64() * n, n * (0.1 + rng.Float64())}
				if b == nValue && trial%3 == 0 {
					h[b] = histBin{} // no missing values
				}
			}
			sum.g += h[b].g
			sum.h += h[b].h
		}
		var got splitInfo
		c.bestSplit(&got, &h, 0, nValue, sum, c.nodeScore(sum))
		if want := refBestSplit(c, splitInfo{}, &h, 0, nValue, sum); got != want {
			t.Fatalf("trial %d (nValue %d): bestSplit %+v, by definition %+v", trial, nValue, got, want)
		}
	}
}

// TestBestSplitMatchesDefinitionAtExtremes is TestBestSplitMatchesDefinition
// at the scales where mayBeat's products overflow or underflow: gradient and
// hessian sums from 1e-320 to 1e300, λ negative, tiny or huge, L1, some
// infinite or NaN sums, and a best split of an earlier feature to beat.
func TestBestSplitMatchesDefinitionAtExtremes(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 8))
	pow := func(lo, hi int) float64 { return math.Pow(10, float64(lo+rng.IntN(hi-lo+1))) }
	special := []float64{math.Inf(1), math.Inf(-1), math.NaN(), math.Copysign(0, -1)}
	for trial := range 20000 {
		c := &config{lambda: []float64{0, 1, -0.5, 1e-300, 1e300}[rng.IntN(5)],
			alpha: []float64{0, 0, 0.7, 1e-300}[rng.IntN(4)], minChildWeight: float64(rng.IntN(2))}
		nValue := 1 + rng.IntN(12)
		gs, hs := pow(-320, 300), pow(-320, 300)
		var h [histStride]histBin
		var sum gpair
		for b := 0; b <= nValue; b++ {
			if rng.IntN(3) > 0 {
				h[b] = histBin{rng.NormFloat64() * gs, rng.Float64() * hs}
				if rng.IntN(50) == 0 {
					h[b].g = special[rng.IntN(len(special))]
				}
			}
			sum.g += h[b].g
			sum.h += h[b].h
		}
		var prior splitInfo
		if rng.IntN(4) == 0 {
			prior = splitInfo{ok: true, gain: pow(-6, 300) * rng.Float64(), feature: 0, bin: 3}
		}
		got := prior
		c.bestSplit(&got, &h, 1, nValue, sum, c.nodeScore(sum))
		if want := refBestSplit(c, prior, &h, 1, nValue, sum); !sameSplit(got, want) {
			t.Fatalf("trial %d (λ %g, α %g, nValue %d, bins %v): bestSplit %+v, by definition %+v",
				trial, c.lambda, c.alpha, nValue, h[:nValue+1], got, want)
		}
	}
}

// sameSplit is got == want, except that NaN sums (which the definition's
// thresholdL1 scores as 0, so a split may carry them) equal each other.
func sameSplit(got, want splitInfo) bool {
	eq := func(a, b float64) bool { return a == b || (a != a && b != b) }
	return eq(got.left.g, want.left.g) && eq(got.left.h, want.left.h) &&
		eq(got.right.g, want.right.g) && eq(got.right.h, want.right.h) &&
		got.gain == want.gain && got.ok == want.ok && got.feature == want.feature &&
		got.bin == want.bin && got.defaultLeft == want.defaultLeft
}

// TestBestSplitEdgeCases compares bestSplit with refBestSplit where its
// shortcuts could part from the definition: the occupancy mask's word
// boundaries (nValue-1 = 64, 128), one or two value bins, bins that are
// empty, negative zeros or hold a hessian of 0, Inf and NaN sums (float32
// gradients overflow on targets or weights beyond 3.4e38), products in
// mayBeat that overflow or underflow, negative and huge λ, L1, and a best
// split of an earlier feature that ties or loses.
func TestBestSplitEdgeCases(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	type bin struct {
		b    int
		g, h float64
	}
	// pair puts gradient g with hessian h in bin 0 and -g with h in bin 1.
	pair := func(g, h float64) []bin { return []bin{{0, g, h}, {1, -g, h}} }
	plain := config{lambda: 1, minChildWeight: 1}
	cases := []struct {
		name   string
		c      config
		nValue int
		bins   []bin
		prior  float64 // gain of an earlier feature's best split; 0: none
	}{
		{"one value bin, missing", plain, 1, []bin{{0, -3, 2}, {1, 4, 3}}, 0},
		{"two value bins", plain, 2, []bin{{0, -3, 2}, {1, 4, 3}}, 0},
		{"two value bins, missing", plain, 2, []bin{{0, -3, 2}, {1, 4, 3}, {2, 1, 2}}, 0},
		{"two value bins, first empty", plain, 2, []bin{{1, 4, 3}, {2, -5, 2}}, 0},
		{"word boundary 64", plain, 65, []bin{{0, 1, 2}, {63, -4, 2}, {64, 5, 2}, {65, 1, 1}}, 0},
		{"word boundary 64, bin 64 a threshold", plain, 66, []bin{{63, -4, 2}, {64, 5, 2}, {65, -3, 2}}, 0},
		{"word boundary 128", plain, 129, []bin{{2, 1, 2}, {127, -4, 2}, {128, 5, 2}, {129, 1, 1}}, 0},
		{"word boundary 128, bin 128 a threshold", plain, 130, []bin{{64, -1, 2}, {127, -4, 2}, {128, 5, 2}, {129, -3, 2}}, 0},
		{"last threshold 253", plain, 255, []bin{{191, 3, 2}, {192, -2, 2}, {253, -6, 2}, {254, 7, 2}, {255, 1, 2}}, 0},
		{"hessian 0, gradient not", config{lambda: 1}, 4, []bin{{0, 1, 1}, {1, -5, 0}, {2, 3, 1}, {3, 2, 0}, {4, 1, 1}}, 0},
		{"negative zeros", plain, 5, []bin{{0, math.Copysign(0, -1), math.Copysign(0, -1)}, {1, 0, math.Copysign(0, -1)},
			{2, -4, 2}, {3, 5, 2}, {4, math.Copysign(0, -1), 0}}, 0},
		{"NaN gradient sum", config{lambda: 1}, 3, []bin{{0, inf, 1}, {1, -inf, 1}, {2, 1, 1}}, 0},
		{"NaN gradient sum, L1", config{lambda: 1, alpha: 0.5}, 3, []bin{{0, inf, 1}, {1, -inf, 1}, {2, 1, 1}}, 0},
		{"infinite gradient", config{lambda: 1}, 3, []bin{{0, inf, 1}, {1, -2, 1}, {2, 1, 1}}, 0},
		{"infinite hessian", config{lambda: 1}, 3, []bin{{0, 1, inf}, {1, -2, 1}, {2, 1, 1}}, 0},
		{"NaN bin", config{lambda: 1}, 4, []bin{{0, 3, 1}, {1, nan, nan}, {2, -3, 1}, {3, 2, 1}}, 0},
		{"smallest float32 hessians, λ 0", config{}, 2, pair(1e-25, 0x1p-149), 0},
		{"products underflow, λ 0", config{}, 2, pair(1e-100, 1e-200), 0},
		{"products overflow", plain, 2, pair(1e150, 1), 0},
		{"gains overflow, λ 0", config{}, 3, []bin{{0, 1e200, 1e-10}, {1, -1e200, 1e-10}, {2, 1e200, 1e-10}}, 0},
		{"huge λ", config{lambda: 1e300}, 2, pair(1e150, 1), 0},
		{"negative λ", config{lambda: -0.5}, 3, []bin{{0, 1, 0.25}, {1, -1, 0.5 + 0x1p-52}, {2, 2, 0.75}}, 0},
		{"L1 above every sum", config{lambda: 1, alpha: 10}, 3, []bin{{0, 4, 1}, {1, -4, 1}, {2, 9, 1}}, 0},
		{"L1", config{lambda: 0, alpha: 0.3}, 3, []bin{{0, 4, 1}, {1, -4, 1}, {2, 0.5, 1e-3}}, 0},
		{"earlier feature ties", plain, 2, pair(3, 2), -1},
		{"earlier feature loses by an ulp", plain, 2, pair(3, 2), -2},
		{"earlier feature wins by an ulp", plain, 2, pair(3, 2), -3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			var h [histStride]histBin
			var sum gpair
			for _, b := range tc.bins {
				h[b.b] = histBin{b.g, b.h}
				sum.g += b.g
				sum.h += b.h
			}
			var prior splitInfo
			if tc.prior < 0 {
				// The earlier feature's gain is this one's best, or an
				// ulp below or above it.
				own := refBestSplit(&c, splitInfo{}, &h, 1, tc.nValue, sum)
				if !own.ok {
					t.Fatal("no split to tie with")
				}
				prior = splitInfo{ok: true, gain: own.gain, feature: 0, bin: 7}
				switch tc.prior {
				case -2:
					prior.gain = math.Nextafter(own.gain, 0)
				case -3:
					prior.gain = math.Nextafter(own.gain, inf)
				}
			}
			got := prior
			c.bestSplit(&got, &h, 1, tc.nValue, sum, c.nodeScore(sum))
			want := refBestSplit(&c, prior, &h, 1, tc.nValue, sum)
			if !sameSplit(got, want) {
				t.Errorf("bestSplit %+v, by definition %+v", got, want)
			}
		})
	}
}

// BenchmarkBestSplit scans one feature's 256 bins at several shares of
// occupied bins (deep nodes of small tables occupy few), with missing
// values.
func BenchmarkBestSplit(b *testing.B) {
	for _, fill := range []float64{0.05, 0.3, 1} {
		b.Run(fmt.Sprint("fill=", fill), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			c := &config{lambda: 1, minChildWeight: 1}
			var h [histStride]histBin
			var sum gpair
			for k := 0; k <= 255; k++ {
				if rng.Float64() < fill || k == 255 {
					h[k] = histBin{rng.NormFloat64(), 1 + rng.Float64()}
				}
				sum.g += h[k].g
				sum.h += h[k].h
			}
			ps := c.nodeScore(sum)
			for b.Loop() {
				var best splitInfo
				c.bestSplit(&best, &h, 0, 255, sum, ps)
			}
		})
	}
}

// TestSplitFloor checks the bound evaluate skips nodes by: below
// splitFloor no threshold, missing-value direction or category set gives
// both children min_child_weight, so the scans find nothing, down to the
// last ulp; at twice min_child_weight a split is still found.
func TestSplitFloor(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 5))
	for trial := range 3000 {
		mcw := []float64{1, 0.1, 3, 1e-3}[trial%4]
		c := &config{lambda: 1, minChildWeight: mcw}
		nValue := 2 + rng.IntN(60)
		var h [histStride]histBin
		var raw float64
		for b := 0; b <= nValue; b++ {
			h[b] = histBin{rng.NormFloat64(), rng.Float64()}
			raw += h[b].h
		}
		// Scale the hessians to sum just below the floor (or, every
		// fourth trial, to exactly 2·mcw) while the node's sum comes from
		// the bins, as a histogram's does.
		target := math.Nextafter(c.splitFloor(), 0)
		if trial%4 == 3 {
			target = 2 * mcw
		}
		var sum gpair
		for b := 0; b <= nValue; b++ {
			h[b].h *= target / raw
			sum.g += h[b].g
			sum.h += h[b].h
		}
		below := sum.h < c.splitFloor()
		var got, gotCat splitInfo
		c.bestSplit(&got, &h, 0, nValue, sum, c.nodeScore(sum))
		c.bestSplitCat(&gotCat, &h, 0, nValue, sum, c.nodeScore(sum))
		if below && (got.ok || gotCat.ok) {
			t.Fatalf("trial %d: node hessian %v below the floor %v: split found (ordinal %v, categorical %v); evaluate would skip it",
				trial, sum.h, c.splitFloor(), got.ok, gotCat.ok)
		}
	}
	// The floor is not too high: two rows of hessian mcw each split.
	c := &config{lambda: 1, minChildWeight: 1}
	var h [histStride]histBin
	h[0], h[1] = histBin{-1, 1}, histBin{1, 1}
	sum := gpair{0, 2}
	var got splitInfo
	c.bestSplit(&got, &h, 0, 2, sum, c.nodeScore(sum))
	if sum.h < c.splitFloor() || !got.ok {
		t.Errorf("two rows of hessian 1 with min_child_weight 1: below floor %v, split %v; want a split", sum.h < c.splitFloor(), got.ok)
	}
}
