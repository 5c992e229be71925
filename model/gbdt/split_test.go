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
// left, then all values left with missing values right.
func refBestSplit(c *config, h *[histStride]histBin, f, nValue int, sum gpair) splitInfo {
	var best splitInfo
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
		if want := refBestSplit(c, &h, 0, nValue, sum); got != want {
			t.Fatalf("trial %d (nValue %d): bestSplit %+v, by definition %+v", trial, nValue, got, want)
		}
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
