package explain

import (
	"context"
	"fmt"

	"github.com/tabforge/tabforge/model"
)

// Interactions are SHAP interaction values (Lundberg et al., 2020): for
// every row r, output k and features i, j, Φ_ij with Σ_j Φ_ij = φ_i, the
// SHAP value of feature i, so BaseValue + Σ_ij Φ_ij = f(x). The matrix is
// symmetric; Φ_ii is i's main effect.
type Interactions struct {
	Rows         int      `json:"rows"`
	Outputs      int      `json:"outputs"`
	Features     int      `json:"features"`
	FeatureNames []string `json:"feature_names"`
	// Values holds Rows×Outputs×Features×Features values, row-major: row
	// r, output k, features i, j at ((r*Outputs+k)*Features+i)*Features+j.
	Values    []float64 `json:"values"`
	BaseValue []float64 `json:"base_value"`
}

// At returns Φ_ij of row r and output k.
func (v *Interactions) At(r, k, i, j int) float64 {
	return v.Values[((r*v.Outputs+k)*v.Features+i)*v.Features+j]
}

// InteractionValues computes exact path-dependent SHAP interaction values
// of the rows of x, as XGBoost's pred_interactions: Φ_ij = (φ_j given i
// present − φ_j given i absent)/2 for i ≠ j, from TreeSHAP run with
// feature i conditioned on and off, and Φ_ii = φ_i − Σ_{j≠i} Φ_ij. It
// costs 2·U + 1 TreeSHAP passes per row for the U features the trees
// split on (the others have no interactions). Workers as in TreeSHAP.
func (e *TreeEnsemble) InteractionValues(ctx context.Context, x *model.Matrix, workers int, names []string) (*Interactions, error) {
	if x == nil || x.Cols != e.features || len(x.Data) != x.Rows*x.Cols {
		return nil, fmt.Errorf("explain: interactions: matrix has %d columns, the model has %d features", colsOf(x), e.features)
	}
	used := make([]bool, e.features)
	for ti := range e.trees {
		t := &e.trees[ti]
		for i, l := range t.left {
			if l >= 0 {
				used[t.feature[i]] = true
			}
		}
	}
	p, k := e.features, e.outputs
	out := &Interactions{Rows: x.Rows, Outputs: k, Features: p, FeatureNames: featureNames(names, p),
		Values: make([]float64, x.Rows*k*p*p), BaseValue: append([]float64(nil), e.base...)}
	err := parallelRows(ctx, x.Rows, workers, 8, func() func(r int) {
		w := e.newWorker()
		diag, on, off := make([]float64, k*p), make([]float64, k*p), make([]float64, k*p)
		return func(r int) {
			w.x = x.Row(r)
			clear(diag)
			w.phi = diag
			for ti := range e.trees {
				w.tree(&e.trees[ti])
			}
			e.addLinear(diag, w.x) // a linear term is all main effect
			for i := range p {
				if !used[i] {
					continue
				}
				clear(on)
				clear(off)
				for ti := range e.trees {
					t := &e.trees[ti]
					if t.left[0] < 0 {
						continue
					}
					w.phi = on
					w.recurseCond(t, 0, 0, 0, 1, 1, -1, 1, int32(i), 1)
					w.phi = off
					w.recurseCond(t, 0, 0, 0, 1, 1, -1, -1, int32(i), 1)
				}
				for c := range k {
					m := out.Values[((r*k+c)*p+i)*p : ((r*k+c)*p+i+1)*p]
					m[i] = diag[c*p+i]
					for j := range p {
						if j != i {
							m[j] = (on[c*p+j] - off[c*p+j]) / 2
							m[i] -= m[j]
						}
					}
				}
			}
			// Unused features: their whole SHAP value (zero) is a main effect.
			for i := range p {
				if !used[i] {
					for c := range k {
						out.Values[((r*k+c)*p+i)*p+i] = diag[c*p+i]
					}
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// recurseCond is recurse with feature condFeat conditioned present (cond
// = 1) or absent (cond = −1), the variant XGBoost's TreeShap runs for
// interaction values: the conditioned feature never enters the path, and
// its splits send the row down the hot branch (present) or split
// condFrac by cover (absent).
func (w *shapWorker) recurseCond(t *shapTree, i int32, poff, depth int, zero, one float64, feature int32, cond int8, condFeat int32, condFrac float64) {
	if condFrac == 0 {
		return
	}
	c := w.c
	off := poff + depth + 1
	p := w.path[off : off+depth+1]
	if feature != condFeat {
		copy(p[:depth], w.path[poff:poff+depth])
		c.extend(p, depth, zero, one, feature)
	} else {
		copy(p, w.path[poff:poff+depth+1]) // the parent's path unchanged
	}
	if t.left[i] < 0 {
		vals, outs := t.leafValues(i)
		for k := 1; k <= depth; k++ {
			el := p[k]
			s := c.unwoundSum(p, depth, k) * (el.one - el.zero) * condFrac
			phi := w.phi[t.group*w.f+int(el.feature):]
			for o, v := range vals {
				if outs != nil {
					o = int(outs[o])
				}
				phi[o*w.f] += s * v
			}
		}
		return
	}
	b, depth := w.descend(t, i, p, depth)
	hot, cold, hotZero, coldZero, inZero, inOne, f := b.hot, b.cold, b.hotZero, b.coldZero, b.inZero, b.inOne, b.feature
	hotFrac, coldFrac := condFrac, condFrac
	if f == condFeat {
		if cond > 0 {
			coldFrac = 0
		} else {
			hotFrac *= hotZero
			coldFrac *= coldZero
		}
		depth-- // the child adds no path element
	}
	w.recurseCond(t, hot, off, depth+1, hotZero*inZero, inOne, f, cond, condFeat, hotFrac)
	w.recurseCond(t, cold, off, depth+1, coldZero*inZero, 0, f, cond, condFeat, coldFrac)
}
