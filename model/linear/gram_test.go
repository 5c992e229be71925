package linear

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestGram(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// Sizes across a block boundary, and below one block.
	for _, shape := range [][2]int{{300, 700}, {700, 300}, {5, 3}} {
		x := mat.NewDense(shape[0], shape[1], nil)
		for i := range shape[0] {
			for j := range shape[1] {
				x.Set(i, j, rng.NormFloat64())
			}
		}
		for _, ofColumns := range []bool{false, true} {
			got, err := gram(context.Background(), x, ofColumns)
			if err != nil {
				t.Fatal(err)
			}
			var want mat.SymDense
			if ofColumns {
				want.SymOuterK(1, x.T())
			} else {
				want.SymOuterK(1, x)
			}
			if !mat.EqualApprox(got, &want, 1e-9) {
				t.Errorf("%v, columns %v: gram differs from SymOuterK", shape, ofColumns)
			}
		}
	}
}

// cancelAfter is a context whose Err turns to Canceled after n calls: a
// cancellation that arrives mid-computation, without timing.
type cancelAfter struct {
	context.Context
	n int
}

func (c *cancelAfter) Err() error {
	if c.n--; c.n < 0 {
		return context.Canceled
	}
	return nil
}

// TestGramCancel: a cancellation between block rows stops the product
// (a wide ridge fit could not be cancelled for minutes inside one
// SymOuterK call).
func TestGramCancel(t *testing.T) {
	x := mat.NewDense(3*gramBlock, 10, nil)
	for _, ofColumns := range []bool{false, true} {
		y := x
		if ofColumns {
			y = mat.DenseCopyOf(x.T())
		}
		ctx := &cancelAfter{Context: context.Background(), n: 1}
		if _, err := gram(ctx, y, ofColumns); !errors.Is(err, context.Canceled) {
			t.Errorf("columns %v: gram = %v; want canceled after the first block row", ofColumns, err)
		}
	}
}
