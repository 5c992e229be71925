package linear

import (
	"context"
	"math"
)

// lbfgs minimises a smooth function with the limited-memory BFGS method
// (Nocedal and Wright, Numerical Optimization, 2nd ed., Alg. 7.4) and a
// line search for the strong Wolfe conditions (Alg. 3.5 and 3.6, cubic
// interpolation). fg returns f(x) and writes ∇f(x) into g; it may return NaN
// to abort. x is updated in place. The search stops when ‖∇f‖∞ <= tol,
// after maxIter iterations, or when rounding makes the line search unable
// to decrease f (the optimum to working precision). It returns the number
// of iterations taken.
func lbfgs(ctx context.Context, fg func(x, g []float64) float64, x []float64, tol float64, maxIter int) (int, error) {
	const memory = 10
	n := len(x)
	g := make([]float64, n)
	f := fg(x, g)
	if math.IsNaN(f) {
		return 0, ctx.Err()
	}
	s := make([][]float64, 0, memory)
	y := make([][]float64, 0, memory)
	rho := make([]float64, 0, memory)
	alpha := make([]float64, memory)
	d := make([]float64, n)
	ls := newLineSearch(n)
	for it := 0; it < maxIter; it++ {
		if normInf(g) <= tol {
			return it, nil
		}
		if err := ctx.Err(); err != nil {
			return it, err
		}
		// Two-loop recursion: d = −H·g.
		for i := range d {
			d[i] = -g[i]
		}
		for i := len(s) - 1; i >= 0; i-- {
			alpha[i] = rho[i] * dotv(s[i], d)
			axpy(-alpha[i], y[i], d)
		}
		if m := len(s); m > 0 {
			scal(dotv(s[m-1], y[m-1])/dotv(y[m-1], y[m-1]), d)
		}
		for i := range s {
			b := rho[i] * dotv(y[i], d)
			axpy(alpha[i]-b, s[i], d)
		}
		dg := dotv(d, g)
		if !(dg < 0) { // not a descent direction: restart from steepest descent
			s, y, rho = s[:0], y[:0], rho[:0]
			for i := range d {
				d[i] = -g[i]
			}
			dg = dotv(d, g)
		}
		step := 1.0
		if it == 0 {
			step = 1 / math.Max(normInf(g), 1)
		}
		fNew, ok := ls.search(fg, x, f, g, d, dg, step)
		if math.IsNaN(fNew) {
			return it, ctx.Err()
		}
		if !ok {
			return it, nil // no further decrease possible
		}
		// New curvature pair.
		var sv, yv []float64
		if len(s) == memory {
			sv, yv = s[0], y[0]
			s, y, rho = s[1:], y[1:], rho[1:]
		} else {
			sv, yv = make([]float64, n), make([]float64, n)
		}
		for i := range x {
			sv[i] = ls.x[i] - x[i]
			yv[i] = ls.g[i] - g[i]
		}
		copy(x, ls.x)
		copy(g, ls.g)
		f = fNew
		if sy := dotv(sv, yv); sy > 0 {
			s, y, rho = append(s, sv), append(y, yv), append(rho, 1/sy)
		}
	}
	return maxIter, nil
}

// lineSearch holds the trial point of a strong Wolfe line search.
type lineSearch struct {
	x, g []float64 // the last evaluated trial point and its gradient
}

func newLineSearch(n int) *lineSearch {
	return &lineSearch{x: make([]float64, n), g: make([]float64, n)}
}

// search looks for a step a along d from x (value f0, slope dg0 < 0) that
// satisfies the strong Wolfe conditions with c1 = 1e-4, c2 = 0.9. On
// success ls.x and ls.g hold the accepted point and it returns its value
// and true. It returns false when no step decreases f.
func (ls *lineSearch) search(fg func(x, g []float64) float64, x []float64, f0 float64, g0, d []float64, dg0, a float64) (float64, bool) {
	const (
		c1       = 1e-4
		c2       = 0.9
		maxEvals = 40
	)
	eval := func(a float64) (float64, float64) {
		for i := range x {
			ls.x[i] = x[i] + a*d[i]
		}
		f := fg(ls.x, ls.g)
		return f, dotv(ls.g, d)
	}
	aPrev, fPrev, dPrev := 0.0, f0, dg0
	var aLo, fLo, dLo, aHi, fHi, dHi float64
	evals := 0
	zoom := false
	for evals < maxEvals {
		f, dg := eval(a)
		evals++
		if math.IsNaN(f) {
			return f, false
		}
		if f > f0+c1*a*dg0 || (evals > 1 && f >= fPrev) {
			aLo, fLo, dLo, aHi, fHi, dHi = aPrev, fPrev, dPrev, a, f, dg
			zoom = true
			break
		}
		if math.Abs(dg) <= -c2*dg0 {
			return f, true
		}
		if dg >= 0 {
			aLo, fLo, dLo, aHi, fHi, dHi = a, f, dg, aPrev, fPrev, dPrev
			zoom = true
			break
		}
		aPrev, fPrev, dPrev = a, f, dg
		a *= 4
	}
	if !zoom {
		return ls.finish(eval, f0, aPrev, fPrev)
	}
	for evals < maxEvals {
		a := cubicMin(aLo, fLo, dLo, aHi, fHi, dHi)
		lo, hi := math.Min(aLo, aHi), math.Max(aLo, aHi)
		if w := hi - lo; !(a > lo+0.1*w && a < hi-0.1*w) {
			a = lo + 0.5*w
		}
		if a == aLo || a == aHi {
			break // the bracket has collapsed to rounding
		}
		f, dg := eval(a)
		evals++
		if math.IsNaN(f) {
			return f, false
		}
		if f > f0+c1*a*dg0 || f >= fLo {
			aHi, fHi, dHi = a, f, dg
			continue
		}
		if math.Abs(dg) <= -c2*dg0 {
			return f, true
		}
		if dg*(aHi-aLo) >= 0 {
			aHi, fHi, dHi = aLo, fLo, dLo
		}
		aLo, fLo, dLo = a, f, dg
	}
	return ls.finish(eval, f0, aLo, fLo)
}

// finish accepts the best step found when the Wolfe conditions could not be
// met, provided it decreases f.
func (ls *lineSearch) finish(eval func(float64) (float64, float64), f0, a, f float64) (float64, bool) {
	if a == 0 || !(f < f0) {
		return f0, false
	}
	f, _ = eval(a)
	return f, !math.IsNaN(f) && f < f0
}

// cubicMin returns the minimiser of the cubic interpolating f and f' at a
// and b, or NaN if it has none.
func cubicMin(a, fa, da, b, fb, db float64) float64 {
	d1 := da + db - 3*(fa-fb)/(a-b)
	disc := d1*d1 - da*db
	if disc < 0 {
		return math.NaN()
	}
	d2 := math.Copysign(math.Sqrt(disc), b-a)
	return b - (b-a)*(db+d2-d1)/(db-da+2*d2)
}

func dotv(a, b []float64) float64 {
	s := 0.0
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func axpy(a float64, x, y []float64) {
	for i, v := range x {
		y[i] += a * v
	}
}

func scal(a float64, x []float64) {
	for i := range x {
		x[i] *= a
	}
}

func normInf(x []float64) float64 {
	m := 0.0
	for _, v := range x {
		m = math.Max(m, math.Abs(v))
	}
	return m
}
