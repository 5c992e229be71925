package linear

import (
	"context"
	"fmt"
	"math"

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
	n, p := d.X.Rows, d.X.Cols
	xt, yt, _ := centred(d, intercept)
	if j := columnOverflow(xt, yt); j >= 0 {
		return 0, fmt.Errorf("linear: alpha search: %w", overflowError(d.FeatureNames, j, p))
	}
	// scores S (n×r) and eigenvalues λ: H(α) = S diag(g(α)) Sᵀ.
	var s mat.Dense
	dual := n <= p
	var eig mat.EigenSym
	k, err := gram(ctx, xt, !dual) // X̃X̃ᵀ, or X̃ᵀX̃
	if err != nil {
		return 0, err
	}
	if !eig.Factorize(k, true) {
		return 0, fmt.Errorf("linear: alpha search: eigendecomposition failed")
	}
	if dual {
		eig.VectorsTo(&s)
	} else {
		var v mat.Dense
		eig.VectorsTo(&v)
		s.Mul(xt, &v)
	}
	lambda := eig.Values(nil)
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	_, r := s.Dims()
	sy := make([]float64, r) // Sᵀỹ
	for k := range r {
		sy[k] = mat.Dot(s.ColView(k), mat.NewVecDense(n, yt))
	}
	// The unpenalised intercept adds w_i/Σw to each row's leverage.
	lev0 := make([]float64, n)
	if intercept {
		sw := 0.0
		for i := range n {
			sw += weightOf(d.Weights, i)
		}
		for i := range n {
			lev0[i] = weightOf(d.Weights, i) / sw
		}
	}
	best, bestErr := alphas[0], math.Inf(1)
	g := make([]float64, r)
	for _, a := range alphas {
		for k, l := range lambda {
			l = max(l, 0)
			if dual {
				g[k] = l / (l + a)
			} else {
				g[k] = 1 / (l + a)
			}
		}
		sse := 0.0
		for i := range n {
			h, fit := lev0[i], 0.0
			row := s.RawRowView(i)
			for k, v := range row {
				h += v * v * g[k]
				fit += v * g[k] * sy[k]
			}
			e := (yt[i] - fit) / math.Max(1-h, 1e-12)
			sse += e * e
		}
		if sse < bestErr {
			best, bestErr = a, sse
		}
	}
	return best, nil
}

// centred returns X̃ and ỹ (centred by the weighted means when fitting an
// intercept, rows scaled by √w) and the means (columns, then target).
func centred(d *model.Dataset, intercept bool) (*mat.Dense, []float64, []float64) {
	n, p := d.X.Rows, d.X.Cols
	w := d.Weights
	means := make([]float64, p+1)
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
	xt := mat.NewDense(n, p, nil)
	yt := make([]float64, n)
	for i := range n {
		sc := math.Sqrt(weightOf(w, i))
		for j, v := range d.X.Row(i) {
			xt.Set(i, j, sc*(v-means[j]))
		}
		yt[i] = sc * (d.Y[i] - means[p])
	}
	return xt, yt, means
}
