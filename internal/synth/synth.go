// Package synth generates the deterministic synthetic data sets tabforge's
// speed benchmarks share with their Python peers.
//
// Friedman1 ports generate() from shared/anchors/speed_bench.py: features
// come from integer-only SplitMix64 streams, so X is reproduced bit for bit;
// the target uses the Friedman-1 formula with Irwin–Hall noise and can
// differ from the Python file only by rare last-ulp differences between Go's
// math.Sin and the C library's sin.
package synth

import (
	"math"
	"runtime"
	"sync"

	"github.com/tabforge/tabforge/model"
)

// Features is the number of columns Friedman1 generates; only the first five
// carry signal.
const Features = 28

// Rows is the size of the full benchmark problem; a size-n problem is its
// first n rows.
const Rows = 1_000_000

// Threshold is the float32 median of y over all Rows rows
// (0x1.cd86a6p+3, from shared/anchors/speed.md); ybin[i] = y[i] > Threshold.
const Threshold float32 = 14.422686576843262

// noiseTerms is the number of uniforms summed per row for Irwin–Hall noise.
const noiseTerms = 12

// SplitMix64 returns the k-th output (k = 0, 1, ...) of the SplitMix64
// generator started at state seed. It is a pure function, so any element of
// a stream can be computed independently.
func SplitMix64(seed, k uint64) uint64 {
	z := seed + (k+1)*0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// Friedman1 returns the first n rows of the speed-benchmark regression
// problem: x is n×Features row-major float32 in [0, 1), y the float32
// target and ybin the binary target y > Threshold. It generates rows in
// parallel; the output does not depend on scheduling. n < 0 panics.
//
//	X[i,j] = float32((SplitMix64(0, i*28+j) >> 40) * 2^-24)
//	e[i]   = sum_{m<12} float64((SplitMix64(1, i*12+m) >> 11) * 2^-53) - 6
//	y[i]   = float32(10 sin(pi x0 x1) + 20 (x2-0.5)^2 + 10 x3 + 5 x4 + e[i])
func Friedman1(n int) (x []float32, y []float32, ybin []uint8) {
	if n < 0 {
		panic("synth: negative row count")
	}
	x = make([]float32, n*Features)
	y = make([]float32, n)
	ybin = make([]uint8, n)
	const block = 1 << 14
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for lo := 0; lo < n; lo += block {
		hi := min(lo+block, n)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			fillRows(x, y, ybin, lo, hi)
			<-sem
		}()
	}
	wg.Wait()
	return x, y, ybin
}

// fillRows generates rows [lo, hi).
func fillRows(x, y []float32, ybin []uint8, lo, hi int) {
	const (
		x24 = 1.0 / (1 << 24)
		x53 = 1.0 / (1 << 53)
	)
	for i := lo; i < hi; i++ {
		row := x[i*Features : (i+1)*Features]
		for j := range row {
			// The integer has at most 24 bits, so float32 holds it exactly
			// and the power-of-two scaling is exact too.
			row[j] = float32(SplitMix64(0, uint64(i*Features+j))>>40) * x24
		}
		e := 0.0
		for m := range noiseTerms {
			e += float64(SplitMix64(1, uint64(i*noiseTerms+m))>>11) * x53
		}
		e -= 6
		x0, x1, x2 := float64(row[0]), float64(row[1]), float64(row[2])
		x3, x4 := float64(row[3]), float64(row[4])
		// Explicit conversions round every product, as numpy does, and keep
		// the compiler from fusing multiply-adds on platforms with FMA.
		t1 := float64(10 * math.Sin(float64(float64(math.Pi*x0)*x1)))
		d := float64(x2 - 0.5)
		t2 := float64(20 * float64(d*d))
		t3 := float64(10 * x3)
		t4 := float64(5 * x4)
		v := float32(float64(float64(float64(t1+t2)+t3)+t4) + e)
		y[i] = v
		if v > Threshold {
			ybin[i] = 1
		}
	}
}

// Matrix converts n×cols row-major float32 values (such as Friedman1's x) to
// a float64 model.Matrix. len(x) must be a multiple of cols.
func Matrix(x []float32, cols int) *model.Matrix {
	if cols <= 0 || len(x)%cols != 0 {
		panic("synth: matrix shape does not divide the data")
	}
	m := model.NewMatrix(len(x)/cols, cols)
	for i, v := range x {
		m.Data[i] = float64(v)
	}
	return m
}

// Float64s converts float32 values such as Friedman1's y to float64.
func Float64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, f := range v {
		out[i] = float64(f)
	}
	return out
}
