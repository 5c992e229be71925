package gbdt

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tabforge/tabforge/model"
)

// TestHistKernelsMatchGeneric checks that the histogram kernels in use
// (assembly on amd64) give bit-identical sums to the generic Go loops:
// the same trees must grow on every architecture.
func TestHistKernelsMatchGeneric(t *testing.T) {
	const n = 3000
	rng := rand.New(rand.NewPCG(7, 11))
	var codes [4][]uint8
	for k := range codes {
		codes[k] = make([]uint8, n)
		for i := range codes[k] {
			codes[k][i] = uint8(rng.IntN(256))
		}
	}
	codes[0][0], codes[1][0], codes[2][n-1], codes[3][n-1] = 0, 255, 255, 0
	every := func(step int) []int32 {
		var rows []int32
		for r := 0; r < n; r += step {
			rows = append(rows, int32(r))
		}
		return rows
	}
	var gapped []int32
	for r := 0; r < n; r += 1 + rng.IntN(40) {
		gapped = append(gapped, int32(r))
	}
	cases := []struct {
		name string
		rows []int32
	}{
		{"none", nil},
		{"one", []int32{n - 1}},
		{"three", []int32{0, 5, n - 1}},
		{"every other", every(2)},
		{"gapped", gapped},
		{"all", every(1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gh := make([]rowGrad, len(tc.rows))
			for i := range gh {
				gh[i] = rowGrad{float32(rng.NormFloat64() * 1e3), float32(rng.Float64())}
			}
			if len(gh) > 1 {
				gh[1] = rowGrad{} // weight-0 rows add nothing
			}
			// Special float32 values widen and add alike: subnormals (no
			// flush to zero), negative zeros and infinities.
			special := []rowGrad{{0x1p-149, 0x1p-140}, {float32(math.Copysign(0, -1)), float32(math.Copysign(0, -1))},
				{float32(math.Inf(1)), 1}, {float32(math.Inf(-1)), float32(math.Inf(1))}}
			for k, q := range special {
				if i := 2 + 7*k; i < len(gh) {
					gh[i] = q
				}
			}
			// The kernels add to what the bins hold.
			var start [4][histStride]histBin
			for k := range start {
				for b := range start[k] {
					start[k][b] = histBin{rng.NormFloat64(), rng.Float64()}
				}
			}
			got, want := start, start
			hist4(&got[0], &got[1], &got[2], &got[3], codes[0], codes[1], codes[2], codes[3], tc.rows, gh)
			hist4Generic(&want[0], &want[1], &want[2], &want[3], codes[0], codes[1], codes[2], codes[3], tc.rows, gh)
			checkHists(t, "hist4", got[:], want[:])

			got, want = start, start
			hist1(&got[0], codes[1], tc.rows, gh)
			hist1Generic(&want[0], codes[1], tc.rows, gh)
			checkHists(t, "hist1", got[:1], want[:1])

			// The dense kernels read codes[k][i] for gh[i]: rows lo..lo+len(gh).
			lo := n - len(gh)
			c := func(k int) []uint8 { return codes[k][lo:] }
			got, want = start, start
			hist4Dense(&got[0], &got[1], &got[2], &got[3], c(0), c(1), c(2), c(3), gh)
			hist4DenseGeneric(&want[0], &want[1], &want[2], &want[3], c(0), c(1), c(2), c(3), gh)
			checkHists(t, "hist4Dense", got[:], want[:])

			got, want = start, start
			hist1Dense(&got[0], c(2), gh)
			hist1DenseGeneric(&want[0], c(2), gh)
			checkHists(t, "hist1Dense", got[:1], want[:1])
		})
	}
}

// sameBits is a == b to the bit (so -0 is not 0), with any NaN equal to
// any other: x86 does not fix which operand's payload a sum of two keeps.
func sameBits(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || (a != a && b != b)
}

func checkHists(t *testing.T, kernel string, got, want [][histStride]histBin) {
	t.Helper()
	for k := range got {
		for b := range got[k] {
			if g, w := got[k][b], want[k][b]; !sameBits(g.g, w.g) || !sameBits(g.h, w.h) {
				t.Fatalf("%s: feature %d bin %d = %v, the generic loop gives %v", kernel, k, b, got[k][b], want[k][b])
			}
		}
	}
}

// TestHistKernelBounds checks that a row beyond a code column panics in
// the kernel's wrapper instead of reading past the column.
func TestHistKernelBounds(t *testing.T) {
	c, short := make([]uint8, 10), make([]uint8, 1) // short's capacity ends with it
	gh := make([]rowGrad, 2)
	var h [histStride]histBin
	for _, tc := range []struct {
		name string
		call func()
	}{
		{"hist4 row", func() { hist4(&h, &h, &h, &h, c, c, c, short, []int32{0, 7}, gh) }},
		{"hist4 gradients", func() { hist4(&h, &h, &h, &h, c, c, c, c, []int32{1, 2, 3}, gh) }},
		{"hist1 row", func() { hist1(&h, c, []int32{3, 10}, gh) }},
		{"hist4Dense codes", func() { hist4Dense(&h, &h, &h, &h, c, short, c, c, gh) }},
		{"hist1Dense codes", func() { hist1Dense(&h, short, gh) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tc.call()
		})
	}
}

// TestGrowKeepsRowsIncreasing checks the order the assembly kernels'
// bounds checks rely on (the last row bounds every row read): sampled rows
// go in increasing, and partitioning keeps that order on both sides, so
// every leaf's rows in the grower's index are strictly increasing.
func TestGrowKeepsRowsIncreasing(t *testing.T) {
	const n, p = 3000, 5
	rng := rand.New(rand.NewPCG(5, 9))
	x := &model.Matrix{Rows: n, Cols: p, Data: make([]float64, n*p)}
	for i := range x.Data {
		x.Data[i] = rng.NormFloat64()
	}
	bm, err := newBinMatrix(context.Background(), x, 256, 0, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, prm := range []Params{
		{MaxDepth: 4},
		{GrowPolicy: Lossguide, MaxLeaves: 30, MaxDepth: -1},
		{MaxDepth: 3, Objective: AbsoluteError},
	} {
		c, err := prm.resolve(model.Regression)
		if err != nil {
			t.Fatal(err)
		}
		g := newGrower(&c, bm, 2)
		grad := make([]rowGrad, n)
		for r := range grad {
			grad[r] = rowGrad{float32(x.Data[r*p] + rng.NormFloat64()), 1}
		}
		rows := sampleRows(nil, n, 0.7, rand.New(rand.NewPCG(1, 2)))
		_, leaves := g.grow(grad, rows, []int{0, 1, 2, 3, 4})
		if len(leaves) < 4 {
			t.Fatalf("%+v: %d leaves, too few to test partitioning", prm, len(leaves))
		}
		for _, s := range leaves {
			seg := g.idx[s.begin:s.end]
			for i := 1; i < len(seg); i++ {
				if seg[i] <= seg[i-1] {
					t.Fatalf("%+v: leaf %d rows %d, %d out of order", prm, s.nid, seg[i-1], seg[i])
				}
			}
		}
	}
}
