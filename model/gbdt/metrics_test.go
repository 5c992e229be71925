package gbdt

import (
	"math"
	"sort"
)

// r2 is the coefficient of determination of pred against y.
func r2(y, pred []float64) float64 {
	var mean float64
	for _, v := range y {
		mean += v
	}
	mean /= float64(len(y))
	var ss, st float64
	for i, v := range y {
		ss += (v - pred[i]) * (v - pred[i])
		st += (v - mean) * (v - mean)
	}
	return 1 - ss/st
}

// rmse is the root mean squared error.
func rmse(y, pred []float64) float64 {
	var s float64
	for i, v := range y {
		s += (v - pred[i]) * (v - pred[i])
	}
	return math.Sqrt(s / float64(len(y)))
}

// auc is the ROC AUC of scores for labels y in {0, 1}, ties counted half
// (the Mann–Whitney statistic, as sklearn.metrics.roc_auc_score).
func auc(y, score []float64) float64 {
	idx := make([]int, len(y))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return score[idx[a]] < score[idx[b]] })
	var rankSum, npos float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && score[idx[j]] == score[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks are 1-based
		for k := i; k < j; k++ {
			if y[idx[k]] == 1 {
				rankSum += avg
				npos++
			}
		}
		i = j
	}
	nneg := float64(len(y)) - npos
	return (rankSum - npos*(npos+1)/2) / (npos * nneg)
}
