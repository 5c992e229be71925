package linear

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/tabforge/tabforge/model"
)

// chooseAlpha returns the alpha of alphas with the smallest exact
// leave-one-out error of ridge on d, computed for every alpha from one
// eigendecomposition (of X̃X̃ᵀ when n ≤ p, of X̃ᵀX̃ otherwise, X̃ the
// centred, √w-scaled design): with the hat matrix H(α), the LOO residual
// of row i is (ỹᵢ − ŷᵢ)/(1 − Hᵢᵢ), the intercept's leverage included. This is scikit-learn's RidgeCV with its
// default leave-one-out mode.
func chooseAlpha(ctx context.Context, d *model.Dataset, alphas []float64, intercept bool) (float64, error) {
	if d.X.Rows > d.X.Cols {
		return chooseAlphaTall(ctx, d, alphas, intercept)
	}
	n, p := d.X.Rows, d.X.Cols
	xt, yt, _ := centred(d, intercept)
	if j := columnOverflow(xt, yt); j >= 0 {
		return 0, fmt.Errorf("linear: alpha search: %w", overflowError(d.FeatureNames, j, p))
	}
	// scores S (n×n) and eigenvalues λ: H(α) = S diag(g(α)) Sᵀ.
	var s mat.Dense
	var eig mat.EigenSym
	k, err := gram(ctx, xt, false) // X̃X̃ᵀ
	if err != nil {
		return 0, err
	}
	if !eig.Factorize(k, true) {
		return 0, fmt.Errorf("linear: alpha search: eigendecomposition failed")
	}
	eig.VectorsTo(&s)
	lambda := eig.Values(nil)
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	_, r := s.Dims()
	sy := make([]float64, r) // Sᵀỹ
	for k := range r {
		sy[k] = mat.Dot(s.ColView(k), mat.NewVecDense(n, yt))
	}
	g := gains(alphas, lambda, true)
	sse := make([]float64, len(alphas))
	lev0 := interceptLeverage(d, intercept)
	for i := range n {
		addLOO(sse, s.RawRowView(i), g, sy, yt[i], lev0(i))
	}
	return argmin(alphas, sse), nil
}

// chooseAlphaTall is chooseAlpha on a design with more rows than
// columns, reading X̃ a block of rows at a time: X̃ᵀX̃ and X̃ᵀỹ in one
// pass, then each block's scores X̃V in a second. A centred copy of X and
// its n×p scores, held whole, took ridge on 48,000 rows of a one-hot
// column capped at 1,000 levels to 1.9 GB, two folds at a time.
func chooseAlphaTall(ctx context.Context, d *model.Dataset, alphas []float64, intercept bool) (float64, error) {
	n, p := d.X.Rows, d.X.Cols
	means, yt := centring(d, intercept)
	blk := mat.NewDense(min(gramBlock, n), p, nil)
	k := mat.NewSymDense(p, nil)
	xty := mat.NewVecDense(p, nil)
	var part mat.VecDense
	for lo := 0; lo < n; lo += gramBlock {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		hi := min(lo+gramBlock, n)
		b := centredRows(blk, d, means, lo, hi)
		k.SymRankK(k, 1, b.T())
		part.MulVec(b.T(), mat.NewVecDense(hi-lo, yt[lo:hi]))
		xty.AddVec(xty, &part)
	}
	for j := range p {
		if v := k.At(j, j); v-v != 0 {
			return 0, fmt.Errorf("linear: alpha search: %w", overflowError(d.FeatureNames, j, p))
		}
	}
	if s := floats.Dot(yt, yt); s-s != 0 {
		return 0, fmt.Errorf("linear: alpha search: %w", overflowError(d.FeatureNames, p, p))
	}
	var eig mat.EigenSym
	if !eig.Factorize(k, true) {
		return 0, fmt.Errorf("linear: alpha search: eigendecomposition failed")
	}
	var v mat.Dense
	eig.VectorsTo(&v)
	lambda := eig.Values(nil)
	// Sᵀỹ = VᵀX̃ᵀỹ, with S = X̃V the rows' scores.
	var syv mat.VecDense
	syv.MulVec(v.T(), xty)
	sy := syv.RawVector().Data
	g := gains(alphas, lambda, false)
	sse := make([]float64, len(alphas))
	lev0 := interceptLeverage(d, intercept)
	var s mat.Dense
	for lo := 0; lo < n; lo += gramBlock {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		hi := min(lo+gramBlock, n)
		s.Reset()
		s.Mul(centredRows(blk, d, means, lo, hi), &v)
		for i := lo; i < hi; i++ {
			addLOO(sse, s.RawRowView(i-lo), g, sy, yt[i], lev0(i))
		}
	}
	return argmin(alphas, sse), nil
}

// gains returns, per alpha, the factor each eigen-direction's score gets
// in the hat matrix: λ/(λ+α) for the dual's scores (eigenvectors of
// X̃X̃ᵀ), 1/(λ+α) for the primal's (X̃V).
func gains(alphas, lambda []float64, dual bool) [][]float64 {
	g := make([][]float64, len(alphas))
	for a, alpha := range alphas {
		g[a] = make([]float64, len(lambda))
		for k, l := range lambda {
			l = max(l, 0)
			if dual {
				g[a][k] = l / (l + alpha)
			} else {
				g[a][k] = 1 / (l + alpha)
			}
		}
	}
	return g
}

// interceptLeverage returns row i's leverage from the unpenalised
// intercept, w_i/Σw (0 without an intercept).
func interceptLeverage(d *model.Dataset, intercept bool) func(i int) float64 {
	if !intercept {
		return func(int) float64 { return 0 }
	}
	sw := 0.0
	for i := range d.X.Rows {
		sw += weightOf(d.Weights, i)
	}
	return func(i int) float64 { return weightOf(d.Weights, i) / sw }
}

// addLOO adds one row's squared leave-one-out residual under each alpha
// to sse, from its scores row, the gains g, Sᵀỹ and its target.
func addLOO(sse, row []float64, g [][]float64, sy []float64, y, lev0 float64) {
	for a, ga := range g {
		h, fit := lev0, 0.0
		for k, v := range row {
			h += v * v * ga[k]
			fit += v * ga[k] * sy[k]
		}
		e := (y - fit) / math.Max(1-h, 1e-12)
		sse[a] += e * e
	}
}

// argmin returns the alpha of the smallest sse, the first on a tie.
func argmin(alphas, sse []float64) float64 {
	best, bestErr := alphas[0], math.Inf(1)
	for a, e := range sse {
		if e < bestErr {
			best, bestErr = alphas[a], e
		}
	}
	return best
}

// centred returns X̃ and ỹ (centred by the weighted means when fitting an
// intercept, rows scaled by √w) and the means (columns, then target).
func centred(d *model.Dataset, intercept bool) (*mat.Dense, []float64, []float64) {
	means, yt := centring(d, intercept)
	xt := mat.NewDense(d.X.Rows, d.X.Cols, nil)
	centredRows(xt, d, means, 0, d.X.Rows)
	return xt, yt, means
}

// centring returns the weighted means of X's columns and y (0 without an
// intercept), y's last, and ỹ.
func centring(d *model.Dataset, intercept bool) (means, yt []float64) {
	n, p := d.X.Rows, d.X.Cols
	w := d.Weights
	means = make([]float64, p+1)
	if intercept {
		sw := 0.0
		for i := range n {
			sw += weightOf(w, i)
		}
		for i := range n {
			wi := weightOf(w, i) / sw
			for j, v := range d.X.Row(i) {
				means[j] += wi * v
			}
			means[p] += wi * d.Y[i]
		}
	}
	yt = make([]float64, n)
	for i := range n {
		yt[i] = math.Sqrt(weightOf(w, i)) * (d.Y[i] - means[p])
	}
	return means, yt
}

// centredRows writes rows [lo, hi) of X̃ into the first hi−lo rows of dst
// and returns that slice of dst.
func centredRows(dst *mat.Dense, d *model.Dataset, means []float64, lo, hi int) *mat.Dense {
	for i := lo; i < hi; i++ {
		sc := math.Sqrt(weightOf(d.Weights, i))
		out := dst.RawRowView(i - lo)
		for j, v := range d.X.Row(i) {
			out[j] = sc * (v - means[j])
		}
	}
	_, p := dst.Dims()
	return dst.Slice(0, hi-lo, 0, p).(*mat.Dense)
}
