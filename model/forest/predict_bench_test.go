package forest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/internal/cputime"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/tree"
)

// amesDataset reads testdata/ames.csv as a regression dataset on
// Sale_Price, categorical columns as their codes (missing: -1).
func amesDataset(tb testing.TB) *model.Dataset {
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
	for j, c := range f.Columns() {
		for i := range f.NumRows() {
			v := -1.0
			switch {
			case c.Kind != frame.Categorical:
				if v = c.Num[i]; v != v {
					v = -1
				}
			case c.Codes[i] >= 0:
				v = float64(c.Codes[i])
			}
			x.Data[i*x.Cols+j] = v
		}
	}
	return &model.Dataset{X: x, Y: target.Num, Task: model.Regression}
}

// BenchmarkPredict10k predicts 10,000 ames rows (the file's rows
// repeated) with a default 100-tree forest, the ames production
// ensemble's forest member; cpu-ms/op is steadier than wall time on a
// shared machine.
func BenchmarkPredict10k(b *testing.B) { benchPredict10k(b, Params{}) }

// BenchmarkPredict10kDepth13 is BenchmarkPredict10k with the ames
// production forest's parameters (max_depth 13, min_samples_leaf 3,
// max_features 0.5), whose trees are walked level by level.
func BenchmarkPredict10kDepth13(b *testing.B) {
	benchPredict10k(b, Params{MaxDepth: 13, MinSamplesLeaf: 3, MaxFeatures: tree.MaxFeatures{Rule: tree.FractionFeatures, Value: 0.5}, Seed: 42})
}

// benchPredict10k times a forest with parameters p, trained on ames,
// predicting 10,000 rows (the file's rows repeated).
func benchPredict10k(b *testing.B, p Params) {
	d := amesDataset(b)
	m, err := Train(context.Background(), p, d, model.FitOptions{Workers: 2})
	if err != nil {
		b.Fatal(err)
	}
	xs := model.NewMatrix(10_000, d.X.Cols)
	for i := range xs.Rows {
		copy(xs.Row(i), d.X.Row(i%d.X.Rows))
	}
	dst := make([]float64, xs.Rows)
	c0 := cputime.Now()
	for b.Loop() {
		if err := m.Predict(dst, xs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cputime.Now()-c0)/float64(b.N)/1e6, "cpu-ms/op")
}
