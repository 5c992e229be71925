package explain

import (
	"context"
	"testing"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/gbdt"
)

// TestTreeSHAPMatchesBruteForce compares TreeSHAP with Shapley values of
// the path-dependent value function computed by enumerating every
// coalition, on small fitted models of each family and task (gbdt with
// missing values, so default directions are exercised), and checks local
// accuracy against the models' own predictions (margins for gbdt).
func TestTreeSHAPMatchesBruteForce(t *testing.T) {
	const p = 6
	reg := synth(model.Regression, 400, p, 1, false)
	bin := synth(model.Binary, 400, p, 2, false)
	multi := synth(model.Multiclass, 400, p, 3, false)
	regNaN := synth(model.Regression, 400, p, 4, true)
	binNaN := synth(model.Binary, 400, p, 5, true)
	cases := []struct {
		name string
		m    model.Model
		x    *model.Matrix
	}{
		{"tree-regression", fitTree(t, reg, 6), reg.X},
		{"tree-binary", fitTree(t, bin, 5), bin.X},
		{"tree-multiclass", fitTree(t, multi, 5), multi.X},
		{"forest-regression", fitForest(t, reg, 5, 6), reg.X},
		{"forest-multiclass", fitForest(t, multi, 4, 5), multi.X},
		{"gbdt-regression-missing", fitGBDT(t, regNaN, gbdt.Params{NEstimators: 8, MaxDepth: 4}), regNaN.X},
		{"gbdt-binary-missing", fitGBDT(t, binNaN, gbdt.Params{NEstimators: 8, MaxDepth: 4}), binNaN.X},
		{"gbdt-multiclass", fitGBDT(t, multi, gbdt.Params{NEstimators: 5, MaxDepth: 3}), multi.X},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := NewTreeEnsemble(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			x := head(tc.x, 25)
			v, err := e.TreeSHAP(context.Background(), x, 2, nil)
			if err != nil {
				t.Fatal(err)
			}
			// Algorithm 2's recursion (deep trees) must agree too.
			rv, err := withoutTables(e).TreeSHAP(context.Background(), x, 2, nil)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiff(rv.Values, v.Values); d > 1e-9 {
				t.Fatalf("recursion and leaf tables differ by %.3g", d)
			}
			worst := 0.0
			for r := range x.Rows {
				want := bruteShapley(p, e.outputs, func(inS []bool, out []float64) {
					copy(out, e.offset)
					for ti := range e.trees {
						pathValue(&e.trees[ti], x.Row(r), inS, out)
					}
				})
				for k := range e.outputs {
					if d := maxAbsDiff(v.Row(r, k), want[k*p:(k+1)*p]); d > 1e-9 {
						t.Fatalf("row %d output %d: TreeSHAP %v, brute force %v", r, k, v.Row(r, k), want[k*p:(k+1)*p])
					}
				}
				worst = max(worst, maxAbsDiff(v.Values[r*e.outputs*p:(r+1)*e.outputs*p], want))
			}
			// Local accuracy against the model itself.
			var f []float64
			if g, ok := tc.m.(*gbdt.Model); ok {
				f = make([]float64, x.Rows*g.NumGroups())
				if err := g.PredictRaw(f, x); err != nil {
					t.Fatal(err)
				}
			} else {
				f = predict(t, tc.m, x)
			}
			la, err := v.CheckLocalAccuracy(f, 1e-6)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("worst |TreeSHAP − brute force| %.2g; worst local-accuracy error %.2g", worst, la)
		})
	}
}

// TestTreeSHAPDeterministic checks that the worker count does not change
// a single bit of the output.
func TestTreeSHAPDeterministic(t *testing.T) {
	d := synth(model.Regression, 2000, 8, 7, true)
	m := fitGBDT(t, d, gbdt.Params{NEstimators: 20, MaxDepth: 5})
	e, err := NewTreeEnsemble(m)
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.TreeSHAP(context.Background(), d.X, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.TreeSHAP(context.Background(), d.X, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameBits(t, a, b)
}

// TestLeafTablesMatchRecursion checks the two TreeSHAP paths against each
// other on models whose trees have tables: the leaf-table walk and
// Algorithm 2's recursion (used for deep trees) agree to rounding.
func TestLeafTablesMatchRecursion(t *testing.T) {
	reg := synth(model.Regression, 1500, 9, 13, true)
	multi := synth(model.Multiclass, 800, 9, 14, false)
	for _, m := range []model.Model{
		fitGBDT(t, reg, gbdt.Params{NEstimators: 15, MaxDepth: 7}),
		fitForest(t, multi, 4, 8),
	} {
		e, err := NewTreeEnsemble(m)
		if err != nil {
			t.Fatal(err)
		}
		tabled := 0
		for i := range e.trees {
			if e.trees[i].fast != nil {
				tabled++
			}
		}
		plain := withoutTables(e)
		if tabled == 0 {
			t.Fatalf("%s: no tree got leaf tables", m.Family())
		}
		x := head(reg.X, 300)
		if m.Family() != "gbdt" {
			x = head(multi.X, 300)
		}
		a, err := e.TreeSHAP(context.Background(), x, 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := plain.TreeSHAP(context.Background(), x, 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(a.Values, b.Values); d > 1e-9 {
			t.Fatalf("%s: leaf tables and recursion differ by %.3g", m.Family(), d)
		}
	}
}

// withoutTables returns a copy of e whose trees all use the recursion.
func withoutTables(e *TreeEnsemble) *TreeEnsemble {
	plain := *e
	plain.trees = append([]shapTree(nil), e.trees...)
	for i := range plain.trees {
		plain.trees[i].fast = nil
	}
	return &plain
}

// TestTreeEnsembleLeafTable checks that a multiclass forest is flattened
// with its trees' leaf tables, not a value per node and class: the
// values TreeSHAP keeps are as many as the trees store, which on a
// fully grown forest's mostly pure leaves is about one per leaf.
func TestTreeEnsembleLeafTable(t *testing.T) {
	multi := synth(model.Multiclass, 400, 6, 3, false)
	m := fitForest(t, multi, 4, 0)
	e, err := NewTreeEnsemble(m)
	if err != nil {
		t.Fatal(err)
	}
	for i, src := range m.Trees() {
		st := &e.trees[i]
		if len(st.value) != len(src.Value) || len(st.vstart) != src.NumNodes()+1 {
			t.Errorf("tree %d: %d values for %d nodes of %d classes; the tree stores %d", i, len(st.value), src.NumNodes(), src.NumOutputs, len(src.Value))
		}
	}
}
