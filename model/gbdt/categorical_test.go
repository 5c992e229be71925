package gbdt

import (
	"bytes"
	"context"
	"math"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/model"
)

// catData has a categorical column (codes 0..19, every 11th row missing)
// whose effect is not monotone in the code, and a numeric column of noise.
// y is 10 for codes {1, 4, 7, 9, 13}, 5 when the code is missing, else 0.
func catData(n int) *model.Dataset {
	x := model.NewMatrix(n, 2)
	y := make([]float64, n)
	hot := []int{1, 4, 7, 9, 13}
	for r := range n {
		c := (r * 7) % 20
		x.Data[2*r] = float64(c)
		x.Data[2*r+1] = float64((r * 13) % 17)
		switch {
		case r%11 == 0:
			x.Data[2*r] = math.NaN()
			y[r] = 5
		case slices.Contains(hot, c):
			y[r] = 10
		}
	}
	return &model.Dataset{X: x, Y: y, Task: model.Regression, Categorical: []bool{true, false}}
}

func TestCategoricalSplits(t *testing.T) {
	d := catData(4000) // about 180 rows per code, above minCatHess
	// Stumps with λ = 0: one categorical split separates the hot codes.
	p := Params{NEstimators: 1, MaxDepth: 1, LearningRate: 1, Lambda: -1, CategoricalSplits: true}
	m := fit(t, p, d, 2)
	root := m.Tree(0)
	if !root.IsCategorical(0) || root.Feature(0) != 0 {
		t.Fatalf("root splits on feature %d, categorical %v; want a categorical split on 0", root.Feature(0), root.IsCategorical(0))
	}
	if got := root.Categories(0); !slices.Equal(got, []int{1, 4, 7, 9, 13}) {
		t.Errorf("left categories %v; want [1 4 7 9 13]", got)
	}
	// An ordinal stump cannot isolate a non-contiguous set.
	p.CategoricalSplits = false
	ord := fit(t, p, d, 2)
	q := &model.Matrix{Rows: 4, Cols: 2, Data: []float64{4, 0, 5, 0, -1, 0, 13, 0}}
	got := predict(t, m, q)
	// Codes 4 and 13 are hot; 5 is not; −1 was never seen, so it goes right
	// with the cold codes. The missing rows (y = 5) join one side, so the
	// leaves are a hot mean in (5, 10] and a cold mean in [0, 5).
	if got[0] != got[3] || got[1] != got[2] || !(got[0] > 5 && got[0] <= 10) || !(got[1] >= 0 && got[1] < 5) {
		t.Errorf("categorical stump predicts %v for codes 4, 5, −1, 13", got)
	}
	if e, eo := rmse(d.Y, predict(t, m, d.X)), rmse(d.Y, predict(t, ord, d.X)); !(e < eo/2) {
		t.Errorf("training RMSE categorical %.3f, ordinal %.3f; want categorical far lower", e, eo)
	}

	// Deeper model: deterministic, saved and loaded exactly, not exportable.
	p = Params{NEstimators: 20, CategoricalSplits: true, Subsample: 0.8}
	m1, m2 := fit(t, p, d, 1), fit(t, p, d, 2)
	b1, b2 := marshal(t, m1), marshal(t, m2)
	if !bytes.Equal(b1, b2) {
		t.Error("Workers 1 and 2 give different categorical models")
	}
	back, err := Decode(b1)
	if err != nil {
		t.Fatal(err)
	}
	want, gotBack := predict(t, m1, d.X), predict(t, back, d.X)
	for i := range want {
		if want[i] != gotBack[i] {
			t.Fatalf("row %d after load: %v, want %v", i, gotBack[i], want[i])
		}
	}
	if e := rmse(d.Y, want); e > 0.05 {
		t.Errorf("20-round categorical model: training RMSE %v", e)
	}
	if err := m1.WriteXGBoostJSON(&bytes.Buffer{}); err == nil {
		t.Error("XGBoost export of categorical splits succeeded")
	}
	// Columns that are not small integer codes stay ordinal.
	bad := catData(4000)
	bad.X.Data[0] = 2.5
	mb := fit(t, Params{NEstimators: 3, CategoricalSplits: true}, bad, 1)
	for i := range mb.Tree(0).NumNodes() {
		if mb.Tree(0).IsCategorical(i) {
			t.Fatal("a column with the value 2.5 was split as categorical")
		}
	}
	if _, err := Train(context.Background(), Params{CategoricalSplits: true}, &model.Dataset{X: bad.X, Y: bad.Y, Task: model.Regression, Categorical: []bool{true}}, nil, model.FitOptions{}); err == nil {
		t.Error("1 categorical flag for 2 columns accepted")
	}
}
