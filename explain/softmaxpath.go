package explain

import (
	"math"

	"github.com/tabforge/tabforge/internal/prob"
)

// Softmax members in interventional SHAP. For one row x and reference r
// with margins z(x), z(r) (one per class) and Δ = z(x) − z(r), the
// fundamental theorem of calculus along the segment from z(r) to z(x)
// gives p(x) − p(r) = C·Δ exactly, where p = softmax(z) and
//
//	C = ∫_0^1 J(z(r) + tΔ) dt,  J_km = p_k(δ_km − p_m),
//
// the softmax's Jacobian averaged along the path. The pair's margin
// values φ^{z_m} add up to Δ_m, so φ^{p_k}_j = Σ_m C_km φ^{z_m}_j add up
// to p_k(x) − p_k(r): the multiclass form of the binary secant (for two
// classes it is that secant). C has no closed form for more than two
// classes; it is integrated by composite Gauss–Legendre quadrature, with
// panels short enough that the softmax changes smoothly within each
// (the integrand's poles lie π/spread from the real axis, spread being
// max Δ − min Δ: softmax ignores a common shift).

// Quadrature sizes. A panel over which the margins' spread grows by at
// most panelSpread keeps the poles at least 2π/panelSpread half-panels
// away, where 16-node Gauss–Legendre converges like 3.4^−32 (about
// 1e-17). Margins parting by more than maxPanels·panelSpread (saturated
// probabilities) get coarser panels; the residual step in apply keeps
// local accuracy exact then.
const (
	gaussNodes  = 16
	panelSpread = 4.0
	maxPanels   = 256
)

// gaussLegendre returns the n nodes and weights of Gauss–Legendre
// quadrature on [0, 1], by Newton's method on the Legendre polynomial
// P_n from Chebyshev starting points (Numerical Recipes' gauleg).
func gaussLegendre(n int) (nodes, weights []float64) {
	nodes, weights = make([]float64, n), make([]float64, n)
	for i := range (n + 1) / 2 {
		x := math.Cos(math.Pi * (float64(i) + 0.75) / (float64(n) + 0.5))
		var dp float64
		for range 100 {
			p0, p1 := 1.0, 0.0
			for j := 1; j <= n; j++ { // P_j by the three-term recurrence
				p0, p1 = ((2*float64(j)-1)*x*p0-(float64(j)-1)*p1)/float64(j), p0
			}
			dp = float64(n) * (x*p0 - p1) / (x*x - 1)
			dx := p0 / dp
			x -= dx
			if math.Abs(dx) < 1e-16 {
				break
			}
		}
		w := 2 / ((1 - x*x) * dp * dp)
		// Map [−1, 1] to [0, 1]: t = (1 ∓ x)/2, weight w/2.
		nodes[i], nodes[n-1-i] = (1-x)/2, (1+x)/2
		weights[i], weights[n-1-i] = w/2, w/2
	}
	return nodes, weights
}

// quadPanels is how many panels of gaussNodes nodes jacobian integrates
// the path from margins zr to zx over.
func quadPanels(zx, zr []float64) int {
	lo, hi := math.Inf(1), math.Inf(-1)
	for m := range zx {
		d := zx[m] - zr[m]
		lo, hi = min(lo, d), max(hi, d)
	}
	return min(maxPanels, max(1, int(math.Ceil((hi-lo)/panelSpread))))
}

// softmaxPath holds one goroutine's buffers for mapping a pair's margin
// values to probability values over k classes.
type softmaxPath struct {
	k              int
	nodes, weights []float64
	z, p           []float64 // margins and probabilities at a node
	c              []float64 // k×k: the path-averaged Jacobian
}

func newSoftmaxPath(k int) *softmaxPath {
	nodes, weights := gaussLegendre(gaussNodes)
	return &softmaxPath{k: k, nodes: nodes, weights: weights, z: make([]float64, k), p: make([]float64, k), c: make([]float64, k*k)}
}

// jacobian sets s.c to ∫_0^1 J(zr + t(zx − zr)) dt, J the softmax's
// Jacobian, by composite Gauss–Legendre quadrature (see the constants).
func (s *softmaxPath) jacobian(zx, zr []float64) {
	k, panels := s.k, quadPanels(zx, zr)
	clear(s.c)
	h := 1 / float64(panels)
	for q := range panels {
		for i, u := range s.nodes {
			t, w := (float64(q)+u)*h, s.weights[i]*h
			for m := range k {
				s.z[m] = zr[m] + t*(zx[m]-zr[m])
			}
			prob.Softmax(s.p, s.z)
			// J is symmetric: fill the upper triangle, mirror below.
			for a, pa := range s.p {
				row := s.c[a*k : (a+1)*k]
				row[a] += w * pa
				for b := a; b < k; b++ {
					row[b] -= w * pa * s.p[b]
				}
			}
		}
	}
	for a := range k {
		for b := range a {
			s.c[a*k+b] = s.c[b*k+a]
		}
	}
}

// apply adds to acc (k×features) the probability values of a pair whose
// margin values (k×features, summing to zx − zr per class) are phi:
// C·phi, C from jacobian(zx, zr), which must have run. px and pr are the
// rows' probabilities; what quadrature leaves of a class's sum missing
// from px − pr (rounding, or saturated probabilities beyond maxPanels)
// is spread over the class's values in proportion to their size, so the
// pair's values add up to px − pr. out is a k×features buffer.
func (s *softmaxPath) apply(acc, out, phi, px, pr []float64, features int) {
	k := s.k
	clear(out)
	for a := range k {
		dst := out[a*features : (a+1)*features]
		for m, c := range s.c[a*k : (a+1)*k] {
			if c == 0 {
				continue
			}
			for j, v := range phi[m*features : (m+1)*features] {
				dst[j] += c * v
			}
		}
		sum, abs := 0.0, 0.0
		for _, v := range dst {
			sum += v
			abs += math.Abs(v)
		}
		if e := px[a] - pr[a] - sum; abs > 0 && e != 0 {
			for j, v := range dst {
				dst[j] += e * math.Abs(v) / abs
			}
		}
		for j, v := range dst {
			acc[a*features+j] += v
		}
	}
}
