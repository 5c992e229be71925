package gbdt

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/model"
)

// sparseMatrix has mostly-zero indicators and counts, a mostly-missing
// column, a column mostly at 5 (a default code other than the first) and
// two dense columns; y depends on all of them.
func sparseMatrix(n int, seed uint64) (*model.Matrix, []float64) {
	const p = 8
	rng := rand.New(rand.NewPCG(seed, 1))
	x := &model.Matrix{Rows: n, Cols: p, Data: make([]float64, n*p)}
	y := make([]float64, n)
	for r := range n {
		row := x.Data[r*p : (r+1)*p]
		for f := range 3 { // indicators, 1–6% ones
			if rng.Float64() < 0.01+0.025*float64(f) {
				row[f] = 1
			}
		}
		if rng.Float64() < 0.05 { // counts
			row[3] = float64(1 + rng.IntN(20))
		}
		row[4] = math.NaN() // mostly missing
		if rng.Float64() < 0.04 {
			row[4] = rng.NormFloat64()
		}
		row[5] = 5
		if rng.Float64() < 0.08 {
			row[5] = float64(rng.IntN(10))
		}
		row[6], row[7] = rng.NormFloat64(), rng.Float64()
		y[r] = 2*row[0] - 3*row[1] + row[2] + 0.2*row[3] + row[6] + 0.5*row[5]
		if !math.IsNaN(row[4]) {
			y[r] += 2 * row[4]
		}
	}
	return x, y
}

// TestSparseHistMatchesDense: trees grown with the sparse features'
// histograms read from their off-default rows equal those grown from
// every row: same splits, leaf values to float32 rounding, over several
// trees of one grower (the node marks carry over), with row and feature
// samples, both growth policies, and across the reset of the marks.
func TestSparseHistMatchesDense(t *testing.T) {
	x, y := sparseMatrix(6000, 3)
	bm, err := newBinMatrix(context.Background(), x, 256, 0, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	var sparse []int
	for f := range bm.cols {
		if bm.nz[f] != nil {
			sparse = append(sparse, f)
		}
	}
	if want := []int{0, 1, 2, 3, 4, 5}; !slices.Equal(sparse, want) {
		t.Fatalf("sparse features %v, want %v", sparse, want)
	}
	if bm.dflt[4] != uint8(bm.missing(4)) || bm.dflt[5] == 0 {
		t.Fatalf("default codes %v: want the missing code for feature 4 and a code above 0 for feature 5", bm.dflt)
	}
	dense := *bm
	dense.nz = nil
	cases := []struct {
		name  string
		p     Params
		rows  float64 // share of rows sampled
		feats []int
		reset bool // start the marks near their reset
	}{
		{"depthwise", Params{MaxDepth: 6}, 1, nil, false},
		{"lossguide", Params{GrowPolicy: Lossguide, MaxLeaves: 40, MaxDepth: -1}, 1, nil, false},
		{"row and feature samples", Params{MaxDepth: 8, MinChildWeight: 0.5}, 0.6, []int{0, 2, 3, 4, 5, 6}, false},
		{"marks reset", Params{MaxDepth: 5}, 0.8, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.p.resolve(model.Regression)
			if err != nil {
				t.Fatal(err)
			}
			feats := tc.feats
			if feats == nil {
				feats = []int{0, 1, 2, 3, 4, 5, 6, 7}
			}
			gs, gd := newGrower(&c, bm, 2), newGrower(&c, &dense, 2)
			if tc.reset {
				gs.mark, gs.stampNext = make([]int32, bm.rows), 1<<30-3
			}
			rng := rand.New(rand.NewPCG(7, 7))
			score := make([]float64, len(y))
			for tree := range 4 {
				grad := make([]rowGrad, len(y))
				for r := range grad {
					// Hessians that are not integers, as logistic loss's.
					h := 0.1 + 0.15*rng.Float64()
					grad[r] = rowGrad{float32(h * (score[r] - y[r])), float32(h)}
				}
				var rows []int32
				for r := range len(y) {
					if rng.Float64() < tc.rows {
						rows = append(rows, int32(r))
					}
				}
				ts, _ := gs.grow(grad, rows, feats)
				td, _ := gd.grow(grad, rows, feats)
				if !slices.Equal(ts.feature, td.feature) || !slices.Equal(ts.left, td.left) ||
					!slices.Equal(ts.defaultLeft, td.defaultLeft) {
					t.Fatalf("tree %d: sparse and dense histograms grew different trees:\nfeatures %v\n     vs %v", tree, ts.feature, td.feature)
				}
				for i := range ts.value {
					if ts.left[i] >= 0 {
						if ts.threshold[i] != td.threshold[i] {
							t.Fatalf("tree %d node %d: threshold %v with sparse histograms, %v dense", tree, i, ts.threshold[i], td.threshold[i])
						}
						continue
					}
					a, b := float64(ts.value[i]), float64(td.value[i])
					if math.Abs(a-b) > 1e-6*max(1, math.Abs(b)) {
						t.Fatalf("tree %d leaf %d: %v with sparse histograms, %v dense", tree, i, a, b)
					}
				}
				if len(ts.feature) < 15 {
					t.Fatalf("tree %d has %d nodes: too small to compare", tree, len(ts.feature))
				}
				for r := range score {
					score[r] += float64(td.value[td.route(&dense, r)])
				}
			}
		})
	}
}

// TestSparseHistEmptyDefault: a node with no row on a feature's default
// code gets an exactly empty default bin, not the rounding left by the
// node's sum minus the other bins (an empty missing bin must read as no
// missing values).
func TestSparseHistEmptyDefault(t *testing.T) {
	const n = 64
	x := &model.Matrix{Rows: n, Cols: 1, Data: make([]float64, n)}
	for r := range n {
		x.Data[r] = math.NaN()
	}
	grad := make([]rowGrad, n)
	rng := rand.New(rand.NewPCG(1, 2))
	var rows []int
	for r := 0; r < n; r += 8 { // eight rows with values, the rest missing
		x.Data[r] = float64(r % 3)
		grad[r] = rowGrad{float32(rng.NormFloat64()), float32(0.05 + 0.2*rng.Float64())}
		rows = append(rows, r)
	}
	var sum gpair
	for _, r := range rows {
		sum.g += float64(grad[r].g)
		sum.h += float64(grad[r].h)
	}
	// A child's sums come from its parent's minus its sibling's, so they
	// may be off by a rounding.
	sum.g, sum.h = math.Nextafter(sum.g, math.Inf(1)), math.Nextafter(sum.h, math.Inf(1))
	bm, err := newBinMatrix(context.Background(), x, 256, 0, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bm.nz[0] == nil || bm.dflt[0] != uint8(bm.missing(0)) {
		t.Fatalf("the missing code is not the default: dflt %d, nz %v", bm.dflt[0], bm.nz[0])
	}
	mark := make([]int32, n)
	for _, r := range rows {
		mark[r] = 5
	}
	h := make([]histBin, histStride)
	sparseHist([][]histBin{h}, []gpair{sum}, []int{len(rows)}, bm, []int{0}, mark, 5, grad)
	if miss := h[bm.missing(0)]; miss != (histBin{}) {
		t.Errorf("missing bin %+v of a node without missing values, want exactly empty", miss)
	}
	var got gpair
	for _, b := range h {
		got.g += b.g
		got.h += b.h
	}
	if math.Abs(got.g-sum.g) > 1e-9 || math.Abs(got.h-sum.h) > 1e-9 {
		t.Errorf("bins sum to %+v, want the node's %+v", got, sum)
	}
}

// BenchmarkGrowSparse grows depth-6 trees on a grants-like table (8,708
// rows, 1,500 indicator and count columns, 2% of them nonzero, plus 4
// dense columns) with the sparse features' histograms read from their
// lists and, for comparison, from every row.
func BenchmarkGrowSparse(b *testing.B) {
	const n, p = 8708, 1504
	rng := rand.New(rand.NewPCG(11, 11))
	x := &model.Matrix{Rows: n, Cols: p, Data: make([]float64, n*p)}
	grad := make([]rowGrad, n)
	for r := range n {
		row := x.Data[r*p : (r+1)*p]
		for f := range p - 4 {
			if rng.Float64() < 0.02 {
				row[f] = float64(1 + rng.IntN(3))
			}
		}
		for f := p - 4; f < p; f++ {
			row[f] = rng.NormFloat64()
		}
		y := row[0] + row[1] - row[2] + row[p-1]
		grad[r] = rowGrad{float32(-y), 1}
	}
	bm, err := newBinMatrix(context.Background(), x, 256, 0, 1, nil)
	if err != nil {
		b.Fatal(err)
	}
	dense := *bm
	dense.nz = nil
	rows := make([]int32, n)
	for r := range rows {
		rows[r] = int32(r)
	}
	feats := make([]int, p)
	for f := range feats {
		feats[f] = f
	}
	c, err := Params{MaxDepth: 6}.resolve(model.Regression)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		bm   *binMatrix
	}{{"sparse", bm}, {"dense", &dense}} {
		b.Run(tc.name, func(b *testing.B) {
			g := newGrower(&c, tc.bm, 1)
			for b.Loop() {
				g.grow(grad, rows, feats)
			}
		})
	}
}

// TestSparseHistZeroWeightDefault: rows of weight 0 (gradient pair 0)
// add nothing to a dense histogram, so a node whose only rows on a
// sparse feature's default code weigh 0 has an exactly empty default bin,
// here the missing bin: no missing values, and splits send them to the
// heavier side. With the bin taken as the node's sum minus the other
// bins, rounding there read as missing values and moved the default
// direction of most trees.
func TestSparseHistZeroWeightDefault(t *testing.T) {
	const n = 6000
	x := &model.Matrix{Rows: n, Cols: 2, Data: make([]float64, 2*n)}
	rng := rand.New(rand.NewPCG(1, 1))
	weighed := make([]bool, n)
	for r := range n {
		f := math.NaN() // feature 0 is missing on the rows of weight 0
		if rng.Float64() < 0.1 {
			f, weighed[r] = rng.Float64(), true
		}
		x.Data[2*r], x.Data[2*r+1] = f, rng.NormFloat64()
	}
	bm, err := newBinMatrix(context.Background(), x, 256, 0, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bm.nz[0] == nil || bm.dflt[0] != uint8(bm.missing(0)) {
		t.Fatalf("feature 0: default code %d, want the missing code %d", bm.dflt[0], bm.missing(0))
	}
	dense := *bm
	dense.nz = nil
	c, err := Params{MaxDepth: 6, MinChildWeight: 1e-3}.resolve(model.Binary)
	if err != nil {
		t.Fatal(err)
	}
	gs, gd := newGrower(&c, bm, 1), newGrower(&c, &dense, 1)
	rows := make([]int32, n)
	for r := range rows {
		rows[r] = int32(r)
	}
	for tree := range 30 {
		grad := make([]rowGrad, n)
		for r := range grad {
			if weighed[r] {
				// Hessians over many binades, as logistic loss's from
				// saturated to fresh rows: their float64 sums round.
				h := math.Exp(-25 * rng.Float64())
				grad[r] = rowGrad{float32(h * (x.Data[2*r] - 0.5 + 0.3*x.Data[2*r+1])), float32(h)}
			}
		}
		ts, _ := gs.grow(grad, rows, []int{0, 1})
		td, _ := gd.grow(grad, rows, []int{0, 1})
		if !slices.Equal(ts.feature, td.feature) || !slices.Equal(ts.threshold, td.threshold) ||
			!slices.Equal(ts.defaultLeft, td.defaultLeft) {
			t.Fatalf("tree %d: sparse and dense histograms grew different trees:\nfeatures %v\n     vs %v\ndefault left %v\n         vs %v",
				tree, ts.feature, td.feature, ts.defaultLeft, td.defaultLeft)
		}
	}
}
