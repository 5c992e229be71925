package explain

import (
	"context"
	"errors"
	"testing"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/gbdt"
)

// interventionalCost is InterventionalCost of m on the first 8 rows of x
// against rows 1000–1007, priced for 100 background rows.
func interventionalCost(t *testing.T, m model.Model, x *model.Matrix) float64 {
	t.Helper()
	probe := &model.Matrix{Rows: 8, Cols: x.Cols, Data: x.Data[1000*x.Cols : 1008*x.Cols]}
	c, err := InterventionalCost(context.Background(), m, head(x, 8), probe, 100)
	if err != nil {
		t.Fatal(err)
	}
	if !(c > 0) {
		t.Fatalf("InterventionalCost(%s) = %v; want > 0", m.Family(), c)
	}
	return c
}

// TestInterventionalCostScales checks the cost estimate on counts, not
// times: it grows with the trees and the classes, follows the nodes the
// pair walks pass rather than the nodes the trees have, and is linear in
// the background's rows.
func TestInterventionalCostScales(t *testing.T) {
	reg := synth(model.Regression, 2000, 8, 71, false)
	few, many := interventionalCost(t, fitForest(t, reg, 10, 4), reg.X), interventionalCost(t, fitForest(t, reg, 40, 4), reg.X)
	if r := many / few; r < 3 || r > 5 {
		t.Errorf("40 depth-4 trees cost %.2f× 10 of them; want about 4×", r)
	}

	// A multiclass gbdt grows a tree per class and round; a softmax
	// member's quadrature and Jacobian grow with the classes too.
	bin, multi := synth(model.Binary, 2000, 8, 72, false), synth(model.Multiclass, 2000, 8, 72, false)
	gp := gbdt.Params{NEstimators: 30, MaxDepth: 4, LearningRate: 0.1}
	cb, cm := interventionalCost(t, fitGBDT(t, bin, gp), bin.X), interventionalCost(t, fitGBDT(t, multi, gp), multi.X)
	if r := cm / cb; r < 2 {
		t.Errorf("a 3-class gbdt costs %.2f× a binary one of as many rounds; want over 2× (3 trees a round)", r)
	}
	lb, lm := interventionalCost(t, fitLogistic(t, bin), bin.X), interventionalCost(t, fitLogistic(t, multi), multi.X)
	if r := lm / lb; r < 5 {
		t.Errorf("a 3-class logistic model costs %.2f× a binary one; want over 5× (the softmax's quadrature)", r)
	}

	// Fully grown forest trees are deep: a pair walk passes a far smaller
	// share of their nodes than of a depth-6 gbdt's.
	f, g := fitForest(t, reg, 10, 0), fitGBDT(t, reg, gbdt.Params{NEstimators: 100, MaxDepth: 6, LearningRate: 0.1})
	nodes := func(m model.Model) float64 { return InterventionalRowCost(m, 1) }
	if r := (interventionalCost(t, f, reg.X) / nodes(f)) / (interventionalCost(t, g, reg.X) / nodes(g)); r > 0.5 {
		t.Errorf("a deep forest's node costs %.2f× a gbdt's; want under half", r)
	}

	m := fitForest(t, reg, 10, 4)
	probe := &model.Matrix{Rows: 8, Cols: 8, Data: reg.X.Data[1000*8 : 1008*8]}
	c50, err := InterventionalCost(context.Background(), m, head(reg.X, 8), probe, 50)
	if err != nil {
		t.Fatal(err)
	}
	if c100 := interventionalCost(t, m, reg.X); c100 != 2*c50 {
		t.Errorf("against 100 background rows %v, against 50 %v; want twice", c100, c50)
	}
	if _, err := InterventionalCost(context.Background(), m, head(reg.X, 8), head(bin.X, 8), 100); err != nil {
		t.Errorf("a probe of another data set's rows of the same width: %v", err)
	}
	if _, err := InterventionalCost(context.Background(), m, head(reg.X, 8), &model.Matrix{Rows: 1, Cols: 3, Data: make([]float64, 3)}, 100); err == nil {
		t.Error("a probe of 3 columns for 8 features did not fail")
	}
	if _, err := InterventionalCost(context.Background(), nil, head(reg.X, 8), probe, 100); !errors.Is(err, ErrUnsupported) {
		t.Errorf("no model: %v; want ErrUnsupported", err)
	}
}
