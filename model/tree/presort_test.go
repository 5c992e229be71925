package tree

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/model"
)

// TestPresortMatchesSorting grows each tree twice, with the presorted
// search and with per-node sorting, and checks the encodings are equal
// (both scan a node's rows by code, ties by row, so their sums agree). The
// cases cover regression and classification, bootstrap-style
// integer weights, minimum leaf sizes, depth limits, and columns with few
// distinct values (which the sorting search scans by buckets).
func TestPresortMatchesSorting(t *testing.T) {
	lowCard := func(d *model.Dataset) *model.Dataset {
		c := *d
		x := *d.X
		x.Data = slices.Clone(d.X.Data)
		for i := range x.Data {
			if i%x.Cols%2 == 0 {
				x.Data[i] = math.Floor(x.Data[i] * 7)
			}
		}
		c.X = &x
		return &c
	}
	cases := []struct {
		name string
		d    *model.Dataset
		p    Params
	}{
		{"regression", synthetic(3000, 6, model.Regression, 1), Params{}},
		{"regression sqrt", synthetic(3000, 9, model.Regression, 2), Params{MaxFeatures: MaxFeatures{Rule: SqrtFeatures}, MinSamplesLeaf: 3}},
		{"regression low cardinality", lowCard(synthetic(3000, 6, model.Regression, 3)), Params{MaxDepth: 9}},
		{"binary gini", synthetic(3000, 6, model.Binary, 4), Params{MaxFeatures: MaxFeatures{Rule: SqrtFeatures}}},
		{"multiclass entropy", lowCard(synthetic(3000, 6, model.Multiclass, 5)), Params{Criterion: Entropy, MinSamplesSplit: 5}},
		{"min impurity decrease", synthetic(2000, 5, model.Regression, 6), Params{MinImpurityDecrease: 1e-3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pr, err := Prepare(context.Background(), c.d, 2)
			if err != nil {
				t.Fatal(err)
			}
			boot := rand.New(rand.NewPCG(7, 7))
			w := make([]float64, pr.Rows())
			for range pr.Rows() {
				w[boot.IntN(pr.Rows())]++
			}
			for _, weights := range [][]float64{nil, w} {
				var enc [2][]byte
				for i, s := range []search{searchPresort, searchSort} {
					tr, err := pr.grow(context.Background(), c.p, weights, Stream(3, streamTree, 0), s)
					if err != nil {
						t.Fatal(err)
					}
					enc[i], _ = tr.MarshalBinary()
				}
				if !bytes.Equal(enc[0], enc[1]) {
					t.Errorf("bootstrap %v: presorted and sorting searches grow different trees", weights != nil)
				}
			}
		})
	}
}

// TestPreparedCodes checks the rank codes against a plain sort, with
// negative values, ties and both zeros (which are one value).
func TestPreparedCodes(t *testing.T) {
	vals := []float64{3, -1, 0, math.Copysign(0, -1), -1, 2.5, -7.25, 3, 1e300, -1e-300}
	d := &model.Dataset{X: &model.Matrix{Rows: len(vals), Cols: 1, Data: vals},
		Y: make([]float64, len(vals)), Task: model.Regression}
	pr, err := Prepare(context.Background(), d, 1)
	if err != nil {
		t.Fatal(err)
	}
	distinct := slices.Compact(slices.Sorted(slices.Values(vals)))
	if !slices.Equal(pr.vals[0], distinct) {
		t.Errorf("distinct values %v; want %v", pr.vals[0], distinct)
	}
	for r, v := range vals {
		if got := pr.vals[0][pr.codes[0][r]]; got != v {
			t.Errorf("row %d: code %d has value %v; want %v", r, pr.codes[0][r], got, v)
		}
	}
	for i, k := range pr.sortedKeys()[0] {
		if i > 0 && k < pr.sortedKeys()[0][i-1] {
			t.Fatalf("sortedKeys not ascending at %d", i)
		}
		if uint32(k>>32) != pr.codes[0][uint32(k)] {
			t.Errorf("sorted key %d: code %d, row %d has code %d", i, k>>32, uint32(k), pr.codes[0][uint32(k)])
		}
	}
}
