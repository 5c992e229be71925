package drift

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat"
)

// TestKSPValue compares the KS statistic and p-value with scipy 1.10.1's
// exact two-sample test on evenly spaced samples, the second shifted:
//
//	x = np.arange(n)/n; y = np.arange(m)/m + shift
//	stats.ks_2samp(x, y, method='exact')
//
// The asymptotic p-value with Stephens' correction stays within 0.025 of
// the exact one from 30 values on.
func TestKSPValue(t *testing.T) {
	for _, c := range []struct {
		n, m        int
		shift, d, p float64
	}{
		{50, 60, 0.1, 0.12, 0.7809732629396259},
		{200, 150, 0.12, 0.125, 0.12764650152153392},
		{1000, 800, 0.05, 0.051, 0.19151449100217885},
		{1000, 1000, 0.02, 0.021, 0.9802627322900355},
		{30, 40, 0.3, 0.325, 0.04346146636858811},
	} {
		x, y := grid(c.n, 0), grid(c.m, c.shift)
		d := stat.KolmogorovSmirnov(x, nil, y, nil)
		p := ksPValue(d, c.n, c.m)
		if math.Abs(d-c.d) > 1e-9 || math.Abs(p-c.p) > 0.025 {
			t.Errorf("n=%d m=%d shift=%v: D, p = %v, %v; want %v, %v (scipy exact)", c.n, c.m, c.shift, d, p, c.d, c.p)
		}
	}
}

// TestWasserstein1 checks the linear-time distance against gonum's
// stat.WassersteinDistance (quadratic, so on small samples) with ties,
// unequal sizes and disjoint supports.
func TestWasserstein1(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for trial := range 200 {
		a, b := make([]float64, 1+r.IntN(40)), make([]float64, 1+r.IntN(40))
		for i := range a {
			a[i] = float64(r.IntN(10))
		}
		for i := range b {
			b[i] = r.NormFloat64()*3 + float64(trial%5)
		}
		slices.Sort(a)
		slices.Sort(b)
		got, want := wasserstein1(a, b), stat.WassersteinDistance(a, b, nil, nil)
		if math.Abs(got-want) > 1e-9*max(1, want) {
			t.Fatalf("trial %d: wasserstein1 = %v; gonum %v (a=%v b=%v)", trial, got, want, a, b)
		}
		if back := wasserstein1(b, a); math.Abs(back-got) > 1e-9*max(1, got) {
			t.Fatalf("trial %d: not symmetric: %v vs %v", trial, got, back)
		}
	}
	// Two points a distance 3 apart.
	if d := wasserstein1([]float64{1}, []float64{4}); d != 3 {
		t.Errorf("W(δ1, δ4) = %v; want 3", d)
	}
}

func TestKolmogorovSurvival(t *testing.T) {
	// Q is 1 at 0 and falls monotonically to 0; Q(1.3581) ≈ 0.05 is the
	// classical 5% critical value (Smirnov's table).
	prev := 1.0
	for l := 0.0; l < 4; l += 0.01 {
		q := kolmogorovSurvival(l)
		if q > prev+1e-12 || q < 0 || q > 1 {
			t.Fatalf("Q(%v) = %v after %v; want monotone in [0, 1]", l, q, prev)
		}
		prev = q
	}
	if q := kolmogorovSurvival(1.3581); math.Abs(q-0.05) > 1e-4 {
		t.Errorf("Q(1.3581) = %v; want 0.05", q)
	}
}

// TestChiSquaredHomogeneity compares with scipy 1.10.1:
//
//	stats.chi2_contingency([[30, 20, 50], [20, 25, 55]], correction=False)
//	→ statistic 2.7936507936507935, p 0.24738105537725047, dof 2
func TestChiSquaredHomogeneity(t *testing.T) {
	a := counts{"x": 30, "y": 20, "z": 50}
	b := counts{"x": 20, "y": 25, "z": 55}
	s, p := chiSquaredHomogeneity(a, b, unionKeys(a, b))
	if math.Abs(s-2.7936507936507935) > 1e-9 || math.Abs(p-0.24738105537725047) > 1e-9 {
		t.Errorf("chi-squared = %v, p = %v; want 2.79365, 0.247381 (scipy)", s, p)
	}
	// A category only one side has is finite evidence, not an infinity.
	b["new"] = 40
	s, p = chiSquaredHomogeneity(a, b, unionKeys(a, b))
	if math.IsInf(s, 0) || math.IsNaN(s) || p > 1e-6 {
		t.Errorf("with a new category: chi-squared = %v, p = %v; want finite and tiny", s, p)
	}
	// Rare categories pool; one pooled cell alone has nothing to test.
	s, p = chiSquaredHomogeneity(counts{"a": 2, "b": 1}, counts{"c": 3}, []string{"a", "b", "c"})
	if s != 0 || p != 1 {
		t.Errorf("all rare: %v, %v; want 0, 1", s, p)
	}
}

func TestPSI(t *testing.T) {
	same := []Bin{{Reference: 0.5, Current: 0.5}, {Reference: 0.5, Current: 0.5}}
	if v := psi(same); v != 0 {
		t.Errorf("psi(same) = %v; want 0", v)
	}
	// (0.9−0.5)·ln(0.9/0.5) + (0.1−0.5)·ln(0.1/0.5), by hand.
	want := 0.4*math.Log(1.8) - 0.4*math.Log(0.2)
	if v := psi([]Bin{{Reference: 0.5, Current: 0.9}, {Reference: 0.5, Current: 0.1}}); math.Abs(v-want) > 1e-12 {
		t.Errorf("psi = %v; want %v", v, want)
	}
	// An empty bin counts as a share of psiEpsilon, not zero.
	if v := psi([]Bin{{Reference: 1, Current: 0}, {Reference: 0, Current: 1}}); math.IsInf(v, 0) || v < 10 {
		t.Errorf("psi with empty bins = %v; want large and finite", v)
	}
	for psi, band := range map[float64]string{0.05: "stable", 0.1: "moderate", 0.2: "moderate", 0.25: "significant"} {
		if got := psiBand(psi); got != band {
			t.Errorf("psiBand(%v) = %q; want %q", psi, got, band)
		}
	}
}
