package linear

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/tabforge/tabforge/model"
)

// wideData is n rows of p columns with a target from the first 5 columns
// plus noise, and optional weights.
func wideData(n, p int, weighted bool, seed uint64) *model.Dataset {
	rng := rand.New(rand.NewPCG(seed, seed))
	x := model.NewMatrix(n, p)
	y := make([]float64, n)
	var w []float64
	for i := range n {
		for j := range p {
			x.Data[i*p+j] = rng.NormFloat64() + float64(j%3)
		}
		for j := range 5 {
			y[i] += float64(j+1) * x.Data[i*p+j]
		}
		y[i] += 0.1*rng.NormFloat64() + 7
		if weighted {
			w = append(w, 0.5+rng.Float64())
		}
	}
	return &model.Dataset{X: x, Y: y, Weights: w, Task: model.Regression}
}

// TestWideMatchesPrimal checks the dual solve on p > n against the
// primal solutions computed directly: ridge's (X̃ᵀX̃ + αI)⁻¹X̃ᵀỹ and, for
// OLS, the minimum-norm least-squares solution through an SVD.
func TestWideMatchesPrimal(t *testing.T) {
	for _, tt := range []struct {
		name     string
		alpha    float64
		weighted bool
	}{{"ols", 0, false}, {"ridge", 2, false}, {"weighted ridge", 0.5, true}, {"weighted ols", 0, true}} {
		t.Run(tt.name, func(t *testing.T) {
			d := wideData(30, 50, tt.weighted, 4)
			m, err := Regression{Alpha: tt.alpha}.Train(context.Background(), d, model.FitOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want := primalWide(d, tt.alpha)
			for j, c := range m.coef {
				if math.Abs(c-want[j]) > 1e-8*(1+math.Abs(want[j])) {
					t.Fatalf("coef %d = %v, primal %v (solver %s)", j, c, want[j], m.solver)
				}
			}
		})
	}
}

// primalWide solves the centred, weighted problem in the primal form.
func primalWide(d *model.Dataset, alpha float64) []float64 {
	n, p := d.X.Rows, d.X.Cols
	sw, means := 0.0, make([]float64, p+1)
	for i := range n {
		sw += weightOf(d.Weights, i)
	}
	for i := range n {
		wi := weightOf(d.Weights, i) / sw
		for j := range p {
			means[j] += wi * d.X.Data[i*p+j]
		}
		means[p] += wi * d.Y[i]
	}
	xt, yt := mat.NewDense(n, p, nil), mat.NewVecDense(n, nil)
	for i := range n {
		s := math.Sqrt(weightOf(d.Weights, i))
		for j := range p {
			xt.Set(i, j, s*(d.X.Data[i*p+j]-means[j]))
		}
		yt.SetVec(i, s*(d.Y[i]-means[p]))
	}
	var beta mat.VecDense
	if alpha > 0 {
		var a mat.Dense
		a.Mul(xt.T(), xt)
		for j := range p {
			a.Set(j, j, a.At(j, j)+alpha)
		}
		var rhs mat.VecDense
		rhs.MulVec(xt.T(), yt)
		beta.SolveVec(&a, &rhs)
		return beta.RawVector().Data
	}
	return svdMinNorm(xt, yt.RawVector().Data)
}

// BenchmarkWideOLS fits OLS on 60 rows × 2,000 columns (issue 14's wide
// case: the normal equations took a minute).
func BenchmarkWideOLS(b *testing.B) {
	d := wideData(60, 2000, false, 1)
	for b.Loop() {
		if _, err := (Regression{}).Train(context.Background(), d, model.FitOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
