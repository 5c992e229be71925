package explain

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/gbdt"
	"github.com/tabforge/tabforge/progress"
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
	nodes := func(m model.Model) float64 { return float64(nodeCount(t, m)) }
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

// nodeCount is the number of nodes of tree model m's trees.
func nodeCount(t *testing.T, m model.Model) int {
	t.Helper()
	rm, err := newRefModel(m)
	if err != nil || rm.trees == nil {
		t.Fatalf("%s: no trees (%v)", m.Family(), err)
	}
	n := 0
	for i := range rm.trees.trees {
		n += len(rm.trees.trees[i].left)
	}
	return n
}

// TestProgressFollowsWalks: an ensemble's interventional rows are
// reported over its members weighted by the work their pair walks do
// (InterventionalCost on seeded samples of the rows and the background,
// the estimate the report's budget uses), not by their trees' nodes: a
// fully grown forest's walks pass a small share of its nodes, so the
// node count gave a logistic member's rows a far smaller share of the
// bar than of the work.
func TestProgressFollowsWalks(t *testing.T) {
	bin := synth(model.Binary, 2000, 8, 72, false)
	lr, f := fitLogistic(t, bin), fitForest(t, bin, 10, 0)
	x, bg := head(bin.X, 20), &model.Matrix{Rows: 60, Cols: 8, Data: bin.X.Data[1000*8 : 1060*8]}
	var events []progress.Event
	_, err := Explain(context.Background(), voting(t, nil, lr, f), x, Options{Background: bg, Workers: 2, Seed: 5,
		Progress: func(e progress.Event) { events = append(events, e) }})
	if err != nil {
		t.Fatal(err)
	}
	cost := func(m model.Model) float64 {
		xs, bs := x.TakeRows(SampleRows(x.Rows, 8, 5)), bg.TakeRows(SampleRows(bg.Rows, 8, 5))
		c, err := InterventionalCost(context.Background(), m, xs, bs, bg.Rows)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	costs := []float64{cost(lr), cost(f)}
	checkMemberEvents(t, events, costs, x.Rows)
	// The test tells the weights apart: by nodes (a logistic model's
	// features against the forest's nodes) the Step after the logistic
	// member's rows would differ.
	byNodes := math.Round(8 / (8 + float64(nodeCount(t, f))) * float64(2*x.Rows))
	byCost := math.Round(costs[0] / (costs[0] + costs[1]) * float64(2*x.Rows))
	if byNodes == byCost {
		t.Fatalf("by nodes and by cost the logistic member's rows end at Step %v: the test needs members they weigh apart", byCost)
	}
}
