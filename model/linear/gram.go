package linear

import (
	"context"

	"gonum.org/v1/gonum/mat"
)

// gramBlock is the number of rows (or columns) per block of gram: small
// enough that a cancelled fit stops within a fraction of a second, large
// enough that each block is a matrix product BLAS runs at full speed.
const gramBlock = 256

// gram returns x·xᵀ, or xᵀ·x when ofColumns, computed block by block
// with ctx checked between block rows: on a wide design this product is
// most of a fit's time (n²p), and a single SymOuterK call could not be
// cancelled for minutes. Only the upper blocks are multiplied, so the
// flops are SymOuterK's.
func gram(ctx context.Context, x *mat.Dense, ofColumns bool) (*mat.SymDense, error) {
	r, c := x.Dims()
	m := r
	block := func(lo, hi int) mat.Matrix { return x.Slice(lo, hi, 0, c) }
	if ofColumns {
		m = c
		block = func(lo, hi int) mat.Matrix { return x.Slice(0, r, lo, hi).T() }
	}
	g := mat.NewSymDense(m, nil)
	var prod mat.Dense
	var diag mat.SymDense
	for i0 := 0; i0 < m; i0 += gramBlock {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		i1 := min(i0+gramBlock, m)
		bi := block(i0, i1)
		// The diagonal block is symmetric: half the flops of a product.
		diag.Reset()
		diag.SymOuterK(1, bi)
		for i := i0; i < i1; i++ {
			for j := i; j < i1; j++ {
				g.SetSym(i, j, diag.At(i-i0, j-i0))
			}
		}
		for j0 := i1; j0 < m; j0 += gramBlock {
			j1 := min(j0+gramBlock, m)
			prod.Reset()
			prod.Mul(bi, block(j0, j1).T())
			for i := i0; i < i1; i++ {
				for j := j0; j < j1; j++ {
					g.SetSym(i, j, prod.At(i-i0, j-j0))
				}
			}
		}
	}
	return g, nil
}
