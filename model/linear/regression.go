package linear

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/tabforge/tabforge/model"
)

// Regression fits a least-squares linear model: ordinary least squares
// when Alpha is 0, ridge regression when Alpha > 0. It minimises
// Σ wᵢ(yᵢ − b − xᵢ·β)² + Alpha·‖β‖², never penalising the intercept b, like
// scikit-learn's LinearRegression and Ridge. The zero value fits OLS with an
// intercept.
//
// OLS returns the minimum-norm solution: columns that are constant or
// linear combinations of others (a full one-hot block beside the intercept)
// share their weight instead of exploding. Ridge solves the centred normal
// equations (XᵀWX + αI)β = XᵀWy by Cholesky factorisation.
type Regression struct {
	// Alpha is the L2 penalty α ≥ 0 on the coefficients; 0 means OLS.
	Alpha float64 `json:"alpha"`
	// FitIntercept says whether to fit an intercept; nil means true.
	FitIntercept *bool `json:"fit_intercept,omitempty"`
	// Alphas, when set, replaces Alpha by the one of them with the least
	// exact leave-one-out error on the training rows (see chooseAlpha);
	// the model records the alpha chosen.
	Alphas []float64 `json:"alphas,omitempty"`
}

var _ model.Learner = Regression{}

// Fit implements model.Learner; see Train.
func (r Regression) Fit(ctx context.Context, d *model.Dataset, o model.FitOptions) (model.Model, error) {
	return r.Train(ctx, d, o)
}

// Train fits the model to d and returns it as a *Model. It reads the rows
// once to accumulate weighted, centred cross-products (in parallel over
// o.Workers goroutines; the result does not depend on the worker count),
// then solves a p×p system. OLS on an ill-conditioned design reads the rows
// a second time for a tall-skinny QR. d.Task must be regression (or empty).
func (r Regression) Train(ctx context.Context, d *model.Dataset, o model.FitOptions) (*Model, error) {
	r, err := r.resolve(ctx, d)
	if err != nil {
		return nil, err
	}
	if d.X.Cols > d.X.Rows {
		return r.trainWide(ctx, d, boolOr(r.FitIntercept, true))
	}
	workers := o.NumWorkers()
	mom, err := computeMoments(ctx, d.X, d.Y, d.Weights, d.FeatureNames, workers)
	if err != nil {
		return nil, fmt.Errorf("linear: %w", err)
	}
	p := d.X.Cols
	intercept := boolOr(r.FitIntercept, true)
	a, b := normalEquations(mom, p, intercept)
	var coef []float64
	var solver string
	over := mom.overflowed()
	switch {
	case over >= 0 && r.Alpha > 0:
		// Ridge is not scale invariant, so the columns cannot be rescaled
		// behind the user's back; its normal equations would be Inf.
		return nil, fmt.Errorf("linear: %w", overflowError(d.FeatureNames, over, p))
	case r.Alpha > 0:
		coef, solver = solveRidge(a, b, p, r.Alpha)
	default:
		if over < 0 { // else the QR below, which never squares a value
			coef, solver = solveNormalOLS(a, b, p, mom, intercept)
		}
		if coef == nil {
			center := make([]float64, p+1)
			if intercept {
				copy(center, mom.mean)
			}
			coef, err = lstsqTSQR(ctx, d.X, d.Y, d.Weights, center, workers)
			if err != nil {
				return nil, fmt.Errorf("linear: %w", err)
			}
			solver = "tsqr-svd"
		}
	}
	b0 := 0.0
	if intercept {
		b0 = mom.mean[p] - dot(mom.mean[:p], coef)
	}
	fam := FamilyOLS
	params := fitParams{FitIntercept: intercept}
	if r.Alpha > 0 {
		fam = FamilyRidge
		params.Alpha = r.Alpha
	}
	return &Model{
		family:       fam,
		task:         model.Regression,
		numClasses:   0,
		p:            p,
		coef:         coef,
		intercept:    []float64{b0},
		means:        append([]float64(nil), mom.mean[:p]...),
		featureNames: append([]string(nil), d.FeatureNames...),
		params:       params,
		solver:       solver,
	}, nil
}

// resolve checks r and d and, when r.Alphas lists candidate penalties,
// returns r with the one cross-validation chose as its Alpha.
func (r Regression) resolve(ctx context.Context, d *model.Dataset) (Regression, error) {
	if !(r.Alpha >= 0) || math.IsInf(r.Alpha, 1) {
		return r, fmt.Errorf("linear: alpha = %v; want a finite value >= 0", r.Alpha)
	}
	if _, err := checkDataset(d); err != nil {
		return r, err
	}
	if d.Task != "" && d.Task != model.Regression {
		return r, fmt.Errorf("linear: least squares needs a regression task, got %s", d.Task)
	}
	if d.X.Cols > d.X.Rows || len(r.Alphas) > 0 {
		// The wide solve and the alpha search do not go through
		// computeMoments, which checks the values as it reads them.
		if err := checkFinite(d); err != nil {
			return r, fmt.Errorf("linear: %w", err)
		}
	}
	if len(r.Alphas) == 0 {
		return r, nil
	}
	for _, a := range r.Alphas {
		if !(a > 0) || math.IsInf(a, 1) {
			return r, fmt.Errorf("linear: alphas holds %v; want finite values > 0", a)
		}
	}
	a, err := chooseAlpha(ctx, d, r.Alphas, boolOr(r.FitIntercept, true))
	if err != nil {
		return r, err
	}
	r.Alpha, r.Alphas = a, nil
	return r, nil
}

// normalEquations returns XᵀWX (p×p, row-major) and XᵀWy from the
// moments, centred when fitting an intercept.
func normalEquations(mom *moments, p int, intercept bool) (a, b []float64) {
	a, b = make([]float64, p*p), make([]float64, p)
	for j := range p {
		for k := range p {
			a[j*p+k] = mom.at(j, k)
		}
		b[j] = mom.at(j, p)
		if !intercept {
			for k := range p {
				a[j*p+k] += mom.sw * mom.mean[j] * mom.mean[k]
			}
			b[j] += mom.sw * mom.mean[j] * mom.mean[p]
		}
	}
	return a, b
}

// boolOr returns *b, or def when b is nil.
func boolOr(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

// dot returns Σ a[i]·b[i].
func dot(a, b []float64) float64 {
	s := 0.0
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

// solveRidge solves (A + αI)β = b by Cholesky factorisation. If rounding
// makes the matrix numerically indefinite it falls back to a symmetric
// eigendecomposition.
func solveRidge(a, b []float64, p int, alpha float64) ([]float64, string) {
	s := mat.NewSymDense(p, nil)
	for j := range p {
		for k := j; k < p; k++ {
			v := a[j*p+k]
			if j == k {
				v += alpha
			}
			s.SetSym(j, k, v)
		}
	}
	var ch mat.Cholesky
	if ch.Factorize(s) {
		var x mat.VecDense
		if err := ch.SolveVecTo(&x, mat.NewVecDense(p, append([]float64(nil), b...))); err == nil {
			return append([]float64(nil), x.RawVector().Data...), "cholesky"
		}
	}
	return pinvSym(s, b, 1e-12), "eigen"
}

// pinvSym returns the pseudo-inverse solution of the symmetric system
// S x = b, ignoring eigenvalues below rcond times the largest.
func pinvSym(s *mat.SymDense, b []float64, rcond float64) []float64 {
	p := s.SymmetricDim()
	var eig mat.EigenSym
	out := make([]float64, p)
	if !eig.Factorize(s, true) {
		return out
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	top := math.Max(math.Abs(vals[0]), math.Abs(vals[p-1]))
	eigenSolve(out, vals, &vecs, b, rcond*top)
	return out
}

// eigenSolve adds to dst the solution of S x = b restricted to the
// eigenvalues of S above cut: Σᵢ (vᵢ·b / λᵢ) vᵢ, where vals and the columns
// of vecs are S's eigenvalues λᵢ and eigenvectors vᵢ.
func eigenSolve(dst, vals []float64, vecs *mat.Dense, b []float64, cut float64) {
	for i, l := range vals {
		if l <= cut {
			continue
		}
		c := 0.0
		for j := range b {
			c += vecs.At(j, i) * b[j]
		}
		c /= l
		for j := range dst {
			dst[j] += c * vecs.At(j, i)
		}
	}
}

// maxNormalCond is the largest condition number of the column-equilibrated
// cross-product matrix for which OLS trusts the normal equations; their
// relative error grows like cond·ε ≈ 1e-8 at this bound. Beyond it (and for
// rank-deficient designs) OLS uses a tall-skinny QR and an SVD.
const maxNormalCond = 1e8

// underflowAbs is the magnitude of a column's mean below which its
// moments cannot tell a constant column from one whose squared deviations
// underflow (they fall below about 1e-280 and lose their digits). A
// constant column of larger values stays on the normal equations.
const underflowAbs = 1e-140

// solveNormalOLS solves the OLS normal equations Aβ = b when the design is
// well conditioned: columns with no variation (all zero without an
// intercept) get coefficient 0, the rest are equilibrated to a unit
// diagonal and solved through a symmetric eigendecomposition. It returns
// nil when the equilibrated matrix is ill-conditioned.
func solveNormalOLS(a, b []float64, p int, mom *moments, intercept bool) ([]float64, string) {
	var active []int
	for j := range p {
		ajj := a[j*p+j]
		degenerate := ajj <= 0
		if intercept {
			// A constant column leaves only rounding noise after centring.
			sd := math.Sqrt(math.Max(ajj, 0) / mom.sw)
			degenerate = degenerate || sd <= 1e-12*math.Abs(mom.mean[j])
		}
		if !degenerate {
			active = append(active, j)
		} else if m := math.Abs(mom.mean[j]); m != 0 && m < underflowAbs {
			// The squares of values this small underflow: a column of
			// 1e-170s that varies looks constant here. The QR reads its
			// values without squaring them.
			return nil, ""
		}
	}
	coef := make([]float64, p)
	if len(active) == 0 {
		return coef, "normal"
	}
	m := len(active)
	dinv := make([]float64, m)
	for i, j := range active {
		dinv[i] = 1 / math.Sqrt(a[j*p+j])
	}
	s := mat.NewSymDense(m, nil)
	rhs := make([]float64, m)
	for i, j := range active {
		for l := i; l < m; l++ {
			k := active[l]
			s.SetSym(i, l, a[j*p+k]*dinv[i]*dinv[l])
		}
		rhs[i] = b[j] * dinv[i]
	}
	var eig mat.EigenSym
	if !eig.Factorize(s, true) {
		return nil, ""
	}
	vals := eig.Values(nil)
	if !(vals[0] > vals[m-1]/maxNormalCond) {
		return nil, ""
	}
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	sol := make([]float64, m)
	eigenSolve(sol, vals, &vecs, rhs, math.Inf(-1)) // all eigenvalues are positive here
	for i, j := range active {
		coef[j] = sol[i] * dinv[i]
	}
	return coef, "normal"
}
