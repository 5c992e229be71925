package explain

import (
	"context"
	"math"
	"testing"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/gbdt"
)

// BenchmarkTreeSHAP explains the 2,930 ames rows with a 100-tree,
// depth-6 gbdt on 2 workers (no peer needed; see
// BenchmarkTreeSHAPvsXGBoost for the comparison).
func BenchmarkTreeSHAP(b *testing.B) {
	reg, _ := amesData(b)
	m := fitGBDT(b, reg, gbdt.Params{NEstimators: 100, MaxDepth: 6, LearningRate: 0.1})
	e, err := NewTreeEnsemble(m)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.TreeSHAP(context.Background(), reg.X, 2, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(reg.X.Rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkKernelSHAP explains 4 rows of a 12-feature, 100-tree forest
// (fully grown, the default)
// against 50 k-means background points with the default budget (2·12 +
// 2048 coalitions). Half the columns take 3 values, as categorical codes
// and indicators do, so background rows often agree with x and evaluate
// shares their synthetic rows.
func BenchmarkKernelSHAP(b *testing.B) {
	d := synth(model.Regression, 1000, 12, 61, false)
	for i, v := range d.X.Data {
		if i%2 == 1 {
			d.X.Data[i] = math.Floor(3 * v)
		}
	}
	m := fitForest(b, d, 100, 0)
	bg, err := KMeansBackground(context.Background(), d.X, 50, 1)
	if err != nil {
		b.Fatal(err)
	}
	x := head(d.X, 4)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := KernelSHAP(context.Background(), m.Predict, 1, x, bg, KernelOptions{Seed: 1, Workers: 2}, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(x.Rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkInterventionalSHAP explains rows of BenchmarkKernelSHAP's
// forest against 50 of its training rows, of a binary 100-tree, depth-6
// gbdt through its sigmoid, and of a 3-class one (100 rounds, 300 trees)
// through its softmax, so rows/s compares directly with
// BenchmarkKernelSHAP's.
func BenchmarkInterventionalSHAP(b *testing.B) {
	d := synth(model.Regression, 1000, 12, 61, false)
	for i, v := range d.X.Data {
		if i%2 == 1 {
			d.X.Data[i] = math.Floor(3 * v)
		}
	}
	bin := synth(model.Binary, 1000, 12, 62, false)
	multi := synth(model.Multiclass, 1000, 12, 63, false)
	for _, tc := range []struct {
		name string
		m    model.Model
		x    *model.Matrix
	}{
		{"forest", fitForest(b, d, 100, 0), d.X},
		{"gbdt-binary", fitGBDT(b, bin, gbdt.Params{NEstimators: 100, MaxDepth: 6, LearningRate: 0.1}), bin.X},
		{"gbdt-multiclass", fitGBDT(b, multi, gbdt.Params{NEstimators: 100, MaxDepth: 6, LearningRate: 0.1}), multi.X},
	} {
		b.Run(tc.name, func(b *testing.B) {
			x, bg := head(tc.x, 16), &model.Matrix{Rows: 50, Cols: 12, Data: tc.x.Data[500*12 : 550*12]}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := InterventionalSHAP(context.Background(), tc.m, x, bg, InterventionalOptions{Workers: 2}, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(x.Rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
