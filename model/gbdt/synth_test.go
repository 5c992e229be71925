package gbdt

import (
	"math"

	"github.com/tabforge/tabforge/model"
)

// splitMix64 is the SplitMix64 hash of the speed benchmark
// (../../../shared/anchors/speed.md): the k-th output of the stream seed.
func splitMix64(seed, k uint64) uint64 {
	s := seed + (k+1)*0x9E3779B97F4A7C15
	z := (s ^ (s >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// friedman1 generates the first n rows of the speed benchmark's
// Friedman-1 problem (28 features, 5 informative): X bit-exact with
// shared/anchors/speed_bench.py, y up to rare last-ulp differences of sin.
// ybin is y > 14.422686576843262, the float32 median over 1M rows given
// in speed.md.
func friedman1(n int) (x *model.Matrix, y, ybin []float64) {
	const p = 28
	x = model.NewMatrix(n, p)
	y = make([]float64, n)
	ybin = make([]float64, n)
	thr := float32(14.422686576843262)
	for i := range n {
		row := x.Row(i)
		for j := range p {
			row[j] = float64(float32(float64(splitMix64(0, uint64(i*p+j))>>40) * 0x1p-24))
		}
		var e float64
		for m := range 12 {
			e += float64(splitMix64(1, uint64(i*12+m))>>11) * 0x1p-53
		}
		e -= 6
		x0, x1, x2, x3, x4 := row[0], row[1], row[2], row[3], row[4]
		yi := float32((((10*math.Sin((math.Pi*x0)*x1) + 20*((x2-0.5)*(x2-0.5))) + 10*x3) + 5*x4) + e)
		y[i] = float64(yi)
		if yi > thr {
			ybin[i] = 1
		}
	}
	return x, y, ybin
}
