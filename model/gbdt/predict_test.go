package gbdt

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/internal/cputime"
	"github.com/tabforge/tabforge/model"
)

// amesMatrix reads testdata/ames.csv as a matrix of every column but
// Sale_Price (categorical columns as their codes) and returns it with the
// sale prices and which columns are categorical.
func amesMatrix(tb testing.TB) (*model.Matrix, []float64, []bool) {
	tb.Helper()
	f, err := frame.ReadFile(filepath.Join("..", "..", "testdata", "ames.csv"), frame.ReadOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	target, ok := f.Lookup("Sale_Price")
	if !ok {
		tb.Fatal("ames.csv has no Sale_Price")
	}
	f = f.Drop("Sale_Price")
	x := model.NewMatrix(f.NumRows(), f.NumCols())
	cat := make([]bool, x.Cols)
	for j, c := range f.Columns() {
		cat[j] = c.Kind == frame.Categorical
		for i := range f.NumRows() {
			v := math.NaN()
			switch {
			case c.Kind != frame.Categorical:
				v = c.Num[i]
			case c.Codes[i] >= 0:
				v = float64(c.Codes[i])
			}
			x.Data[i*x.Cols+j] = v
		}
	}
	return x, target.Num, cat
}

// repeatRows returns n rows of x, its rows repeated in order.
func repeatRows(x *model.Matrix, n int) *model.Matrix {
	out := model.NewMatrix(n, x.Cols)
	for i := range n {
		copy(out.Row(i), x.Row(i%x.Rows))
	}
	return out
}

// walkMargins is the reference predictor: each row walks every Tree
// through its public accessors, one node at a time, and adds the leaf
// values to the base margin in tree order.
func walkMargins(m *Model, x *model.Matrix) []float64 {
	k := m.NumGroups()
	out := make([]float64, x.Rows*k)
	for r := range x.Rows {
		for j := range k {
			out[r*k+j] = m.BaseMargin(j)
		}
		for ti := range m.NumTrees() {
			t := m.Tree(ti)
			i := 0
			for !t.IsLeaf(i) {
				v := float32(x.At(r, t.Feature(i)))
				left := v < t.Threshold(i)
				switch {
				case v != v:
					left = t.DefaultLeft(i)
				case t.IsCategorical(i):
					left = catLeft(t.cats[i], v)
				}
				if left {
					i = t.Left(i)
				} else {
					i = t.Right(i)
				}
			}
			out[r*k+m.TreeGroup(ti)] += t.Value(i)
		}
	}
	return out
}

// walkData returns ames' matrix with its missing values filled (-1) and
// with about 4% of the cells missing, the sale prices and their terciles
// (classes 0-2), and the categorical columns: the inputs on which a
// prediction layout is checked against the node-by-node walk.
func walkData(t *testing.T) (filled, holes *model.Matrix, y, cls []float64, cat []bool) {
	x, y, cat := amesMatrix(t)
	filled, holes = model.NewMatrix(x.Rows, x.Cols), model.NewMatrix(x.Rows, x.Cols)
	for i, v := range x.Data {
		if filled.Data[i] = v; v != v {
			filled.Data[i] = -1
		}
		if holes.Data[i] = filled.Data[i]; i*7919%23 == 0 {
			holes.Data[i] = math.NaN()
		}
	}
	cls = make([]float64, len(y))
	for i, v := range y {
		cls[i] = float64(min(2, int(v/100_000)))
	}
	return filled, holes, y, cls, cat
}

// trainWalkModel trains the model a layout test compares with the tree
// walk (multiclass: the three price terciles of walkData).
func trainWalkModel(t *testing.T, p Params, x *model.Matrix, y []float64, task model.Task, cat []bool) *Model {
	t.Helper()
	d := &model.Dataset{X: x, Y: y, Task: task, Categorical: cat}
	if task == model.Multiclass {
		d.NumClasses = 3
	}
	m, err := Train(context.Background(), p, d, nil, model.FitOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// checkMatchesWalk fails t unless m's margins on xs equal, bit for bit,
// those of walking each tree node by node.
func checkMatchesWalk(t *testing.T, m *Model, xs *model.Matrix) {
	t.Helper()
	got := make([]float64, xs.Rows*m.NumGroups())
	if err := m.PredictRaw(got, xs); err != nil {
		t.Fatal(err)
	}
	want := walkMargins(m, xs)
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("margin %d = %v; the tree walk gives %v", i, got[i], want[i])
		}
	}
}

// TestPredictMatchesTreeWalk checks that the blocked, level-by-level
// predictor gives bit for bit the margins of walking each tree node by
// node, on ames with its missing values (blocks with NaN take the
// missing-value path), on ames without them (the fast path), with
// categorical splits and for a multiclass model.
func TestPredictMatchesTreeWalk(t *testing.T) {
	filled, holes, y, cls, cat := walkData(t)
	cases := []struct {
		name   string
		x      *model.Matrix
		y      []float64
		task   model.Task
		params Params
	}{
		{"missing", holes, y, model.Regression, Params{NEstimators: 60, MaxDepth: 6}},
		{"no missing", filled, y, model.Regression, Params{NEstimators: 60, MaxDepth: 6}},
		{"lossguide", holes, y, model.Regression, Params{NEstimators: 30, MaxLeaves: 40, GrowPolicy: Lossguide}},
		{"categorical", holes, y, model.Regression, Params{NEstimators: 30, CategoricalSplits: true}},
		{"multiclass", filled, cls, model.Multiclass, Params{NEstimators: 20, MaxDepth: 4}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := trainWalkModel(t, c.params, c.x, c.y, c.task, cat)
			xs := repeatRows(c.x, 5000) // several blocks, the last one partial
			checkMatchesWalk(t, m, xs)
		})
	}
}

// BenchmarkPredict10k predicts 10,000 ames rows (the file's rows
// repeated) with a 500-tree depth-6 regression model and with a
// 1,000-tree depth-3 one, the shape of the ames production ensemble's
// gbdt members (two of them, about 1,060 trees each); cpu-ms/op is
// steadier than wall time on a shared machine.
func BenchmarkPredict10k(b *testing.B) {
	x, y, _ := amesMatrix(b)
	xs := repeatRows(x, 10_000)
	for _, c := range []struct{ trees, depth int }{{500, 6}, {1000, 3}} {
		b.Run(fmt.Sprintf("trees=%d/depth=%d", c.trees, c.depth), func(b *testing.B) {
			p := Params{NEstimators: c.trees, MaxDepth: c.depth, LearningRate: 0.05}
			m, err := Train(context.Background(), p, &model.Dataset{X: x, Y: y, Task: model.Regression}, nil, model.FitOptions{Workers: 2})
			if err != nil {
				b.Fatal(err)
			}
			dst := make([]float64, xs.Rows)
			c0 := cputime.Now()
			for b.Loop() {
				if err := m.Predict(dst, xs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cputime.Now()-c0)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}

// TestScorerMatchesTreeWalk checks that the QuickScorer layout gives bit
// for bit the margins of walking each tree node by node, forced on
// (whatever newScorer's cost estimate prefers) for trees of depth 3 to 6
// (bitvectors of 32 and 64 bits), loss-guided trees and a multiclass model, with and without
// missing values; and that it declines trees it cannot lay out.
func TestScorerMatchesTreeWalk(t *testing.T) {
	filled, holes, y, cls, cat := walkData(t)
	for i := range holes.Cols { // a row missing every value: each split's default side
		holes.Data[7*holes.Cols+i] = math.NaN()
	}
	cases := []struct {
		name   string
		x      *model.Matrix
		y      []float64
		task   model.Task
		params Params
		laid   bool // whether the scorer can lay the model out
	}{
		{"depth 3 missing", holes, y, model.Regression, Params{NEstimators: 80, MaxDepth: 3}, true}, // 32-bit bitvectors
		{"depth 3 no missing", filled, y, model.Regression, Params{NEstimators: 80, MaxDepth: 3}, true},
		{"depth 4", holes, y, model.Regression, Params{NEstimators: 40, MaxDepth: 4}, true},
		{"depth 5", holes, y, model.Regression, Params{NEstimators: 40, MaxDepth: 5}, true},
		{"depth 6", holes, y, model.Regression, Params{NEstimators: 40, MaxDepth: 6}, true}, // 64-bit
		{"lossguide 60 leaves", holes, y, model.Regression, Params{NEstimators: 20, MaxLeaves: 60, GrowPolicy: Lossguide}, true},
		{"multiclass", holes, cls, model.Multiclass, Params{NEstimators: 20, MaxDepth: 3}, true},
		{"100 leaves", holes, y, model.Regression, Params{NEstimators: 5, MaxLeaves: 100, MaxDepth: -1, GrowPolicy: Lossguide}, false},
		{"categorical", holes, y, model.Regression, Params{NEstimators: 30, CategoricalSplits: true}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := trainWalkModel(t, c.params, c.x, c.y, c.task, cat)
			m.scorer = layoutScorer(m)
			if (m.scorer != nil) != c.laid {
				t.Fatalf("layoutScorer laid out the model: %v; want %v", m.scorer != nil, c.laid)
			}
			xs := repeatRows(c.x, 5003) // several blocks, a partial last one, rows not a multiple of scorerRows
			checkMatchesWalk(t, m, xs)
		})
	}
}
