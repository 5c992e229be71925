package synth

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"testing"
)

// Check values below come from shared/anchors/speed.md and
// shared/anchors/data/meta.json, written by shared/anchors/speed_bench.py
// (numpy 1.24.2) when it generated the 1M-row files.

func TestSplitMix64(t *testing.T) {
	tests := []struct {
		seed, k, want uint64
	}{
		{0, 0, 0xE220A8397B1DCDAF}, // speed.md: SplitMix64(0,0)
		// Next two outputs from state 0, computed with the formula in speed.md in
		// Python integers (independent of this code).
		{0, 1, 0x6E789E6AA1B965F4},
		{0, 2, 0x06C45D188009454F},
	}
	for _, tt := range tests {
		if got := SplitMix64(tt.seed, tt.k); got != tt.want {
			t.Errorf("SplitMix64(%d, %d) = %#x; want %#x", tt.seed, tt.k, got, tt.want)
		}
	}
}

func TestFriedman1Prefix(t *testing.T) {
	x, y, yb := Friedman1(5)
	wantX := []float32{0.8833107948303223, 0.4315279722213745, 0.02643376588821411, 0.9708819389343262, 0.10634666681289673}
	for j, w := range wantX {
		if x[j] != w {
			t.Errorf("X[0,%d] = %v; want %v", j, x[j], w)
		}
	}
	wantY := []float32{25.461471557617188, 15.29830551147461, 20.298168182373047, 14.125061988830566, 24.892038345336914}
	for i, w := range wantY {
		if y[i] != w {
			t.Errorf("y[%d] = %v; want %v", i, y[i], w)
		}
		if want := w > Threshold; (yb[i] == 1) != want {
			t.Errorf("ybin[%d] = %d; want %v", i, yb[i], want)
		}
	}
}

func TestFriedman1Full(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 1M rows")
	}
	x, y, yb := Friedman1(Rows)
	h := sha256.New()
	buf := make([]byte, 4*Features)
	sumX := 0.0
	for i := range Rows {
		for j := range Features {
			v := x[i*Features+j]
			binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(v))
			sumX += float64(v)
		}
		h.Write(buf)
	}
	// sha256 of friedman1_1m_x.f32 from meta.json: X must be bit-exact.
	const wantSHA = "8a32bd486661529ce75ba22561d2206d3d85a784ace854d73b328a89b23a1130"
	if got := hex.EncodeToString(h.Sum(nil)); got != wantSHA {
		t.Errorf("sha256(X) = %s; want %s", got, wantSHA)
	}
	// meta.json X_sum_float64 (numpy's pairwise sum; ours is sequential, so
	// allow rounding differences).
	if want := 14002718.068087637; math.Abs(sumX-want) > 1e-6 {
		t.Errorf("sum(X) = %.9f; want %.9f", sumX, want)
	}
	hy := sha256.New()
	for _, v := range y {
		binary.LittleEndian.PutUint32(buf[:4], math.Float32bits(v))
		hy.Write(buf[:4])
	}
	// sha256 of friedman1_1m_y.f32 from meta.json. y may legitimately differ
	// in rare last ulps (Go's math.Sin vs libm), so this is logged only.
	const ySHA = "e29df0602f5fd1a43816a6a616266602b83c1cededa7d6b69605e4185f356397"
	t.Logf("y bit-exact with the Python file: %v", hex.EncodeToString(hy.Sum(nil)) == ySHA)
	sumY, pos, pos100k := 0.0, 0, 0
	for i, v := range y {
		sumY += float64(v)
		pos += int(yb[i])
		if i < 100_000 {
			pos100k += int(yb[i])
		}
	}
	// meta.json y_sum_float64; a last-ulp sin difference moves a float32 y
	// by at most ~2e-6, so a handful of them stay far below this bound.
	if want := 14420267.528309446; math.Abs(sumY-want) > 1e-3 {
		t.Errorf("sum(y) = %.9f; want %.9f", sumY, want)
	}
	// meta.json: positive rate 0.5 overall (the threshold is the median) and
	// 0.5018 in the first 100k rows.
	if pos != Rows/2 {
		t.Errorf("positives = %d; want %d", pos, Rows/2)
	}
	if got := fmt.Sprintf("%.4f", float64(pos100k)/100_000); got != "0.5018" {
		t.Errorf("positive rate in first 100k = %s; want 0.5018", got)
	}
}

func TestFriedman1Deterministic(t *testing.T) {
	// A prefix of a larger problem equals the smaller problem.
	x1, y1, _ := Friedman1(40_000)
	x2, y2, _ := Friedman1(100_000)
	for i := range x1 {
		if x1[i] != x2[i] {
			t.Fatalf("x[%d] differs between n=40000 and n=100000", i)
		}
	}
	for i := range y1 {
		if y1[i] != y2[i] {
			t.Fatalf("y[%d] differs between n=40000 and n=100000", i)
		}
	}
}

func TestMatrix(t *testing.T) {
	x, _, _ := Friedman1(3)
	m := Matrix(x, Features)
	if m.Rows != 3 || m.Cols != Features {
		t.Fatalf("Matrix shape = %d×%d; want 3×%d", m.Rows, m.Cols, Features)
	}
	for i, v := range x {
		if m.Data[i] != float64(v) {
			t.Fatalf("Data[%d] = %v; want %v", i, m.Data[i], v)
		}
	}
}

func ExampleFriedman1() {
	x, y, ybin := Friedman1(2)
	fmt.Printf("%.6f %.6f %d\n", x[0], y[0], ybin[0])
	fmt.Printf("%.6f %.6f %d\n", x[Features], y[1], ybin[1])
	// Output:
	// 0.883311 25.461472 1
	// 0.636484 15.298306 1
}

func BenchmarkFriedman1(b *testing.B) {
	for b.Loop() {
		Friedman1(100_000)
	}
}
