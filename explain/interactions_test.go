package explain

import (
	"context"
	"math"
	"math/bits"
	"testing"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/gbdt"
)

// bruteInteractions returns Shapley interaction values (outputs×p×p) of v
// by enumeration: Φ_ij = Σ_{S ⊆ N∖{i,j}} |S|!(p−|S|−2)!/(2(p−1)!) ·
// (v(S∪ij) − v(S∪i) − v(S∪j) + v(S)) off the diagonal, and Φ_ii = φ_i −
// Σ_{j≠i} Φ_ij.
func bruteInteractions(p, outputs int, v func(inS []bool, out []float64)) []float64 {
	vals := coalitionValues(p, outputs, v)
	phi := bruteShapley(p, outputs, v)
	out := make([]float64, outputs*p*p)
	for i := range p {
		for j := range p {
			if i == j {
				continue
			}
			for mask := range 1 << p {
				if mask>>i&1 == 1 || mask>>j&1 == 1 {
					continue
				}
				s := bits.OnesCount(uint(mask))
				w := factorial(s) * factorial(p-s-2) / (2 * factorial(p-1))
				for k := range outputs {
					d := vals[mask|1<<i|1<<j][k] - vals[mask|1<<i][k] - vals[mask|1<<j][k] + vals[mask][k]
					out[(k*p+i)*p+j] += w * d
				}
			}
		}
	}
	for k := range outputs {
		for i := range p {
			d := phi[k*p+i]
			for j := range p {
				if j != i {
					d -= out[(k*p+i)*p+j]
				}
			}
			out[(k*p+i)*p+i] = d
		}
	}
	return out
}

// TestInteractionValues compares TreeSHAP interaction values with
// brute-force Shapley interaction values of the path-dependent value
// function, and checks that rows sum to the SHAP values.
func TestInteractionValues(t *testing.T) {
	const p = 5
	reg := synth(model.Regression, 300, p, 91, true)
	multi := synth(model.Multiclass, 300, p, 92, false)
	for _, tc := range []struct {
		name string
		m    model.Model
		x    *model.Matrix
	}{
		{"gbdt-missing", fitGBDT(t, reg, gbdt.Params{NEstimators: 6, MaxDepth: 4}), reg.X},
		{"forest-multiclass", fitForest(t, multi, 3, 5), multi.X},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := NewTreeEnsemble(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			x := head(tc.x, 8)
			iv, err := e.InteractionValues(context.Background(), x, 2, nil)
			if err != nil {
				t.Fatal(err)
			}
			sv, err := e.TreeSHAP(context.Background(), x, 2, nil)
			if err != nil {
				t.Fatal(err)
			}
			k := e.outputs
			for r := range x.Rows {
				want := bruteInteractions(p, k, func(inS []bool, out []float64) {
					copy(out, e.offset)
					for ti := range e.trees {
						pathValue(&e.trees[ti], x.Row(r), inS, out)
					}
				})
				for c := range k {
					for i := range p {
						row := 0.0
						for j := range p {
							got := iv.At(r, c, i, j)
							if math.Abs(got-want[(c*p+i)*p+j]) > 1e-9 {
								t.Fatalf("row %d output %d Φ[%d][%d] = %v; brute force %v", r, c, i, j, got, want[(c*p+i)*p+j])
							}
							row += got
						}
						if math.Abs(row-sv.Row(r, c)[i]) > 1e-9 {
							t.Fatalf("row %d output %d: Σ_j Φ[%d][j] = %v; SHAP value %v", r, c, i, row, sv.Row(r, c)[i])
						}
					}
				}
			}
		})
	}
}
