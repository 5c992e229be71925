package linear

import (
	"context"
	"errors"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/tabforge/tabforge/model"
)

// lstsqTSQR returns the minimum-norm β minimising
// Σ wᵢ((yᵢ − c_y) − (xᵢ − c_x)·β)², where center = (c_x, c_y) (zeros for a
// model without intercept). It never forms XᵀX: each fixed chunk of rows of
// the scaled, centred [X | y] is reduced to an R factor by Householder QR,
// the factors are stacked and reduced again in chunk order (a tall-skinny
// QR), and the top-left p×p block R₁₁ of the final factor, whose singular
// values are those of the design, is solved against its last column (Qᵀy)
// by SVD with singular values below rcond·σ_max dropped, where
// rcond = ε·max(n, p) as in numpy's lstsq.
func lstsqTSQR(ctx context.Context, x *model.Matrix, y, w, center []float64, workers int) ([]float64, error) {
	p, n := x.Cols, x.Rows
	q := p + 1
	chunk := chunkRows(n, max(2048, 4*q), q)
	parts := make([]*mat.Dense, numChunks(n, chunk))
	err := forChunks(ctx, n, chunk, workers, func(c, lo, hi int) error {
		rows := max(hi-lo, q) // QR needs at least as many rows as columns
		a := mat.NewDense(rows, q, nil)
		raw := a.RawMatrix()
		for i := lo; i < hi; i++ {
			s := 1.0
			if w != nil {
				s = math.Sqrt(w[i])
			}
			dst := raw.Data[(i-lo)*raw.Stride : (i-lo)*raw.Stride+q]
			for j, v := range x.Data[i*p : (i+1)*p] {
				dst[j] = s * (v - center[j])
			}
			dst[p] = s * (y[i] - center[p])
		}
		parts[c] = rFactor(a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	r := parts[0]
	stack := mat.NewDense(2*q, q, nil)
	for _, part := range parts[1:] {
		stack.Slice(0, q, 0, q).(*mat.Dense).Copy(r)
		stack.Slice(q, 2*q, 0, q).(*mat.Dense).Copy(part)
		r = rFactor(stack)
	}
	r11 := r.Slice(0, p, 0, p)
	var svd mat.SVD
	if !svd.Factorize(r11, mat.SVDFull) {
		return nil, errors.New("linear: SVD of the least-squares factor did not converge")
	}
	sv := svd.Values(nil)
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	cutoff := 2.220446049250313e-16 * float64(max(n, p)) * sv[0]
	beta := make([]float64, p)
	for k, s := range sv {
		if !(s > cutoff) {
			break // values are sorted in decreasing order
		}
		c := 0.0
		for i := range p {
			c += u.At(i, k) * r.At(i, p)
		}
		c /= s
		for j := range p {
			beta[j] += c * v.At(j, k)
		}
	}
	return beta, nil
}

// rFactor returns the q×q upper-triangular R of a = QR (a has q columns and
// at least q rows).
func rFactor(a *mat.Dense) *mat.Dense {
	_, q := a.Dims()
	var qr mat.QR
	qr.Factorize(a)
	var r mat.Dense
	qr.RTo(&r)
	out := mat.NewDense(q, q, nil)
	out.Copy(r.Slice(0, q, 0, q))
	return out
}
