package gbdt

import (
	"math"
	"math/rand/v2"
	"testing"
)

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
			l := gpair{rng.NormFloat64() * scale, rng.Float64() * scale}
			r := gpair{rng.NormFloat64() * scale, rng.Float64() * scale}
			parent := c.nodeScore(gpair{l.g + r.g, l.h + r.h})
			gain := c.nodeScore(l) + c.nodeScore(r) - parent
			// The bar just below the gain, by 0 to 8 ulps of the gain.
			thr := gain
			for range rng.IntN(9) {
				thr = math.Nextafter(thr, math.Inf(-1))
			}
			if gain > thr && !c.mayBeat(l, r, parent+thr) {
				t.Fatalf("λ=%g α=%g: l=%v r=%v gain %v beats %v, mayBeat says no", reg.lambda, reg.alpha, l, r, gain, thr)
			}
			if gain > 0 && !c.mayBeat(l, r, parent+gain*0.5) {
				t.Fatalf("λ=%g α=%g: l=%v r=%v gain %v beats half of it, mayBeat says no", reg.lambda, reg.alpha, l, r, gain)
			}
			if c.mayBeat(l, r, parent+2*gain+1e-3*parent+1e-9) {
				continue
			}
			rejected++
		}
	}
	if rejected == 0 {
		t.Fatal("mayBeat rejected no clear loser: it filters nothing")
	}
}
