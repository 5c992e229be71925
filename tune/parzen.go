package tune

import (
	"math"
	"math/rand/v2"
)

// parzen is a Parzen-window (kernel mixture) density over one or more
// parameters: component k is a product of one kernel per parameter, with
// weight exp(logw[k]). The last component is the prior: a wide normal
// centred on each numeric range and a uniform distribution over each
// categorical one.
type parzen struct {
	logw []float64
	dims []parzenDim
}

// parzenDim holds the kernels of one parameter, in its transformed space:
// log(x) for Log distributions. Integer ranges are widened by ½ on each
// side; non-log integers get the probability of their unit cell.
type parzenDim struct {
	d         Distribution
	low, high float64
	discrete  bool
	mus       []float64   // numeric: kernel centres per component
	sigmas    []float64   // numeric: bandwidths per component
	probs     [][]float64 // categorical: probabilities per component
}

// tpeWeights returns Optuna's default observation weights for n
// observations in trial order: 1 for the newest 25, a linear ramp from
// 1/n up to 1 for older ones.
func tpeWeights(n int) []float64 {
	w := make([]float64, n)
	ramp := n - 25
	for i := range w {
		w[i] = 1
		if i < ramp {
			if ramp == 1 {
				w[i] = 1.0 / float64(n)
			} else {
				w[i] = 1.0/float64(n) + (1-1.0/float64(n))*float64(i)/float64(ramp-1)
			}
		}
	}
	return w
}

// bounds returns the transformed range of d.
func bounds(d Distribution) (low, high float64, discrete bool) {
	low, high = d.Low, d.High
	if d.Kind == Int {
		low, high = low-0.5, high+0.5
		if d.Log {
			low = math.Max(low, d.Low/2)
		}
	}
	if d.Log {
		return math.Log(low), math.Log(high), false
	}
	return low, high, d.Kind == Int
}

// transform maps an internal value to the parzen space of d.
func transform(d Distribution, v float64) float64 {
	if d.Log {
		return math.Log(v)
	}
	return v
}

// newParzen builds the density of obs[i][j] (observation i of parameter
// j, internal values) over dists. Multivariate estimators use Scott-like
// bandwidths shrinking with n, univariate ones the distance to the
// neighbouring observations (Bergstra et al., 2011), both "magic clipped"
// to at least range/min(100, n+2).
func newParzen(dists []Distribution, obs [][]float64, priorWeight float64, multivariate bool) *parzen {
	n := len(obs)
	w := append(tpeWeights(n), priorWeight)
	sum := 0.0
	for _, x := range w {
		sum += x
	}
	p := &parzen{logw: make([]float64, n+1)}
	for k, x := range w {
		p.logw[k] = math.Log(x / sum)
	}
	for j, d := range dists {
		dim := parzenDim{d: d}
		if d.Kind == Categorical {
			c := len(d.Choices)
			dim.probs = make([][]float64, n+1)
			for k := range dim.probs {
				row := make([]float64, c)
				for i := range row {
					row[i] = priorWeight / float64(n+1)
				}
				if k < n {
					row[int(obs[k][j])]++
				}
				s := 0.0
				for _, x := range row {
					s += x
				}
				for i := range row {
					row[i] /= s
				}
				dim.probs[k] = row
			}
			p.dims = append(p.dims, dim)
			continue
		}
		dim.low, dim.high, dim.discrete = bounds(d)
		span := dim.high - dim.low
		mus := make([]float64, n+1)
		for k := range n {
			mus[k] = transform(d, obs[k][j])
		}
		mus[n] = (dim.low + dim.high) / 2
		sigmas := make([]float64, n+1)
		if multivariate {
			s := 0.2 * math.Pow(float64(max(n, 1)), -1/float64(len(dists)+4)) * span
			for k := range sigmas {
				sigmas[k] = s
			}
		} else {
			neighbourSigmas(sigmas, mus, dim.low, dim.high)
		}
		minSigma := span / math.Min(100, float64(n+2))
		for k := range sigmas {
			sigmas[k] = math.Min(span, math.Max(minSigma, sigmas[k]))
		}
		sigmas[n] = span // the prior
		dim.mus, dim.sigmas = mus, sigmas
		p.dims = append(p.dims, dim)
	}
	return p
}

// neighbourSigmas sets sigmas[k] to the larger distance from mus[k] to its
// sorted neighbours, with low and high as outer neighbours; the extreme
// points use their inner neighbour only (Optuna's consider_endpoints =
// false).
func neighbourSigmas(sigmas, mus []float64, low, high float64) {
	n := len(mus)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	// insertion sort by value, ties by index: n is small.
	for i := 1; i < n; i++ {
		for k := i; k > 0 && mus[order[k]] < mus[order[k-1]]; k-- {
			order[k], order[k-1] = order[k-1], order[k]
		}
	}
	ext := make([]float64, n+2)
	ext[0], ext[n+1] = low, high
	for i, k := range order {
		ext[i+1] = mus[k]
	}
	for i, k := range order {
		left, right := ext[i+1]-ext[i], ext[i+2]-ext[i+1]
		s := math.Max(left, right)
		if n >= 2 {
			switch i {
			case 0:
				s = right
			case n - 1:
				s = left
			}
		}
		sigmas[k] = s
	}
}

// sample draws one point (internal values, one per dimension).
func (p *parzen) sample(rng *rand.Rand, dst []float64) {
	u := rng.Float64()
	k := len(p.logw) - 1
	for i, lw := range p.logw {
		u -= math.Exp(lw)
		if u < 0 {
			k = i
			break
		}
	}
	for j, dim := range p.dims {
		if dim.d.Kind == Categorical {
			row := dim.probs[k]
			u, c := rng.Float64(), len(row)-1
			for i, q := range row {
				u -= q
				if u < 0 {
					c = i
					break
				}
			}
			dst[j] = float64(c)
			continue
		}
		x := truncNormal(rng, dim.mus[k], dim.sigmas[k], dim.low, dim.high)
		if dim.d.Log {
			x = math.Exp(x)
		}
		if dim.d.Kind == Int {
			x = math.Round(x)
		}
		dst[j] = dim.d.clip(x)
	}
}

// logPDF returns the log density (or, for non-log integers, log mass) of
// point x (internal values).
func (p *parzen) logPDF(x []float64) float64 {
	terms := make([]float64, len(p.logw))
	copy(terms, p.logw)
	for j, dim := range p.dims {
		if dim.d.Kind == Categorical {
			c := int(x[j])
			for k := range terms {
				terms[k] += math.Log(dim.probs[k][c])
			}
			continue
		}
		v := transform(dim.d, x[j])
		for k := range terms {
			mu, s := dim.mus[k], dim.sigmas[k]
			a, b := (dim.low-mu)/s, (dim.high-mu)/s
			z := math.Log(math.Max(normMass(a, b), 1e-300))
			if dim.discrete {
				lo, hi := math.Max(v-0.5, dim.low), math.Min(v+0.5, dim.high)
				terms[k] += math.Log(math.Max(normMass((lo-mu)/s, (hi-mu)/s), 1e-300)) - z
			} else {
				t := (v - mu) / s
				terms[k] += -0.5*t*t - math.Log(s) - 0.5*math.Log(2*math.Pi) - z
			}
		}
	}
	return logSumExp(terms)
}

// normMass returns Φ(b) − Φ(a) for a ≤ b, accurate in both tails.
func normMass(a, b float64) float64 {
	switch {
	case a >= 0:
		return 0.5 * (math.Erfc(a/math.Sqrt2) - math.Erfc(b/math.Sqrt2))
	case b <= 0:
		return 0.5 * (math.Erfc(-b/math.Sqrt2) - math.Erfc(-a/math.Sqrt2))
	}
	return 1 - 0.5*math.Erfc(-a/math.Sqrt2) - 0.5*math.Erfc(b/math.Sqrt2)
}

// truncNormal draws from N(mu, sigma²) truncated to [low, high] by
// inverting the CDF, working in the lower tail for accuracy.
func truncNormal(rng *rand.Rand, mu, sigma, low, high float64) float64 {
	a, b := (low-mu)/sigma, (high-mu)/sigma
	flip := a > 0 // work with a ≤ 0 so Φ(a) is computed from erfc accurately
	if flip {
		a, b = -b, -a
	}
	pa := 0.5 * math.Erfc(-a/math.Sqrt2)
	pb := 0.5 * math.Erfc(-b/math.Sqrt2)
	u := pa + rng.Float64()*(pb-pa)
	z := -math.Sqrt2 * math.Erfcinv(2*u)
	if flip {
		z = -z
	}
	x := mu + sigma*z
	if math.IsNaN(x) || math.IsInf(x, 0) {
		x = mu
	}
	return math.Min(high, math.Max(low, x))
}

func logSumExp(xs []float64) float64 {
	m := math.Inf(-1)
	for _, x := range xs {
		m = math.Max(m, x)
	}
	if math.IsInf(m, -1) {
		return m
	}
	s := 0.0
	for _, x := range xs {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}
