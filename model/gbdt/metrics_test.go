package gbdt

import (
	"github.com/tabforge/tabforge/eval"
)

// r2 is eval.R2 for tests, where the inputs are known to be valid.
func r2(y, p []float64) float64 {
	v, _ := eval.R2(y, p, nil)
	return v
}

// rmse is eval.RMSE for tests.
func rmse(y, p []float64) float64 {
	v, _ := eval.RMSE(y, p, nil)
	return v
}

// auc is eval.ROCAUC for 0/1 float labels, for tests.
func auc(y, p []float64) float64 {
	labels := make([]int, len(y))
	for i, v := range y {
		labels[i] = int(v)
	}
	v, _ := eval.ROCAUC(labels, p, 2, nil)
	return v
}
