package explain

import (
	"context"
	"testing"

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
