package linear

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/tabforge/tabforge/model"
)

// trainWide fits least squares on a design with more columns than rows
// through the dual (kernel) form: with X̃ the centred, √w-scaled design
// and ỹ the target likewise, β = X̃ᵀ(X̃X̃ᵀ + αI)⁺ỹ. That is ridge's
// solution for α > 0 and, for α = 0, the minimum-norm least-squares
// solution (what an SVD solver returns), at the cost of an n×n system
// instead of p×p: a 60×2000 table solves in milliseconds rather than
// minutes.
func (r Regression) trainWide(ctx context.Context, d *model.Dataset, intercept bool) (*Model, error) {
	n, p := d.X.Rows, d.X.Cols
	xt, yt, means := centred(d, intercept)
	if j := columnOverflow(xt, yt); j >= 0 {
		return nil, fmt.Errorf("linear: %w", overflowError(d.FeatureNames, j, p))
	}
	k, err := gram(ctx, xt, false) // X̃X̃ᵀ + αI
	if err != nil {
		return nil, err
	}
	for i := range n {
		k.SetSym(i, i, k.At(i, i)+r.Alpha)
	}
	var dual []float64
	solver := "dual-cholesky"
	if r.Alpha > 0 {
		var ch mat.Cholesky
		var x mat.VecDense
		if ch.Factorize(k) && ch.SolveVecTo(&x, mat.NewVecDense(n, yt)) == nil {
			dual = x.RawVector().Data
		}
	}
	if dual == nil {
		dual, solver = pinvSym(k, yt, 1e-12), "dual-eigen"
	}
	var beta mat.VecDense
	beta.MulVec(xt.T(), mat.NewVecDense(n, dual))
	coef := append([]float64(nil), beta.RawVector().Data...)
	b0 := 0.0
	if intercept {
		b0 = means[p] - dot(means[:p], coef)
	}
	fam, params := FamilyOLS, fitParams{FitIntercept: intercept}
	if r.Alpha > 0 {
		fam, params.Alpha = FamilyRidge, r.Alpha
	}
	for _, c := range coef {
		if math.IsNaN(c) || math.IsInf(c, 0) {
			return nil, fmt.Errorf("linear: the wide solve gave a non-finite coefficient")
		}
	}
	return &Model{family: fam, task: model.Regression, p: p, coef: coef, intercept: []float64{b0},
		means: means[:p], featureNames: append([]string(nil), d.FeatureNames...), params: params, solver: solver}, nil
}

func weightOf(w []float64, i int) float64 {
	if w == nil {
		return 1
	}
	return w[i]
}
