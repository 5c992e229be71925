package forest

import (
	"context"
	"math"
	"testing"

	"github.com/tabforge/tabforge/model"
)

// walkPredict is the reference prediction: each row walks each tree node
// by node (tree.Leaf) and sums the leaf values in tree order, then scales
// by 1/trees, as Predict did before trees were laid out flat.
func walkPredict(m *Model, x *model.Matrix) []float64 {
	k := m.NumOutputs()
	out := make([]float64, x.Rows*k)
	inv := 1 / float64(len(m.trees))
	for r := range x.Rows {
		for _, t := range m.trees {
			t.AddValue(out[r*k:(r+1)*k], t.Leaf(x.Row(r)))
		}
		for j := range k {
			out[r*k+j] *= inv
		}
	}
	return out
}

// TestPredictMatchesTreeWalk checks that the level-by-level block
// prediction gives bit for bit the node-by-node walk's values, for every
// task, on shallow and deep trees, over more rows than one block (the
// last block partial) and after an encode/decode round trip.
func TestPredictMatchesTreeWalk(t *testing.T) {
	train, test := friedmanSplit(1200)
	ames := amesDataset(t)
	cases := []struct {
		name   string
		params Params
		data   *model.Dataset
		x      *model.Matrix
	}{
		{"regression deep", Params{NEstimators: 8, Seed: 3}, train, test.X},
		{"regression shallow", Params{NEstimators: 8, MaxDepth: 3, Seed: 3}, train, test.X},
		{"stumps", Params{NEstimators: 4, MaxDepth: 1, Seed: 3}, train, test.X},
		{"binary", Params{NEstimators: 8, Seed: 3}, classify(train, 2), test.X},
		{"multiclass", Params{NEstimators: 8, Seed: 3}, classify(train, 4), test.X},
		{"extra trees", Params{NEstimators: 8, ExtraTrees: true, Seed: 3}, train, test.X},
		{"ames", Params{NEstimators: 10, MaxDepth: 13, MinSamplesLeaf: 3, Seed: 3}, ames, repeatRows(ames.X, 3000)},
	}
	layouts := map[bool]int{} // forests walked level by level, and row by row
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Train(context.Background(), c.params, c.data, model.FitOptions{Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			b, err := m.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			loaded, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			layouts[m.flat != nil]++
			want := walkPredict(m, c.x)
			for name, mm := range map[string]*Model{"trained": m, "decoded": loaded} {
				got := predict(t, mm, c.x)
				for i := range want {
					if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
						t.Fatalf("%s: output %d = %v; the tree walk gives %v", name, i, got[i], want[i])
					}
				}
			}
		})
	}
	if layouts[true] == 0 || layouts[false] == 0 {
		t.Errorf("trees by level walk: %v; want both layouts exercised", layouts)
	}
}

// repeatRows returns n rows: x's rows repeated in order.
func repeatRows(x *model.Matrix, n int) *model.Matrix {
	out := model.NewMatrix(n, x.Cols)
	for i := range n {
		copy(out.Row(i), x.Row(i%x.Rows))
	}
	return out
}
