package eval

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// OperatingPoint is what a binary classifier does when it predicts the
// positive class for the rows scoring at least Threshold: the counts of
// its confusion matrix and the rates derived from them. Precision is 1
// when nothing is predicted positive (the convention of scikit-learn's
// precision_recall_curve at its last point).
type OperatingPoint struct {
	Threshold float64 `json:"threshold"`
	TP        float64 `json:"tp"`
	FP        float64 `json:"fp"`
	TN        float64 `json:"tn"`
	FN        float64 `json:"fn"`
}

// TPR is the true positive rate (recall), NaN without positives.
func (o OperatingPoint) TPR() float64 { return ratio(o.TP, o.TP+o.FN) }

// FPR is the false positive rate, NaN without negatives.
func (o OperatingPoint) FPR() float64 { return ratio(o.FP, o.FP+o.TN) }

// Precision is TP / (TP + FP), 1 when nothing is predicted positive.
func (o OperatingPoint) Precision() float64 {
	if o.TP+o.FP == 0 {
		return 1
	}
	return o.TP / (o.TP + o.FP)
}

// F1 is the harmonic mean of precision and recall, 0 when both are 0.
func (o OperatingPoint) F1() float64 {
	if 2*o.TP+o.FP+o.FN == 0 {
		return 0
	}
	return 2 * o.TP / (2*o.TP + o.FP + o.FN)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// OperatingPoints returns the operating points of a binary classifier at
// every distinct score, from the highest threshold (+Inf: nothing
// predicted positive) down to the lowest score (everything positive):
// the points of the ROC and precision–recall curves. y holds 0 or 1,
// score one finite value per row (the probability of class 1, or any
// monotone score), w optional weights. It takes O(n log n) time.
func OperatingPoints(y []int, score []float64, w []float64) ([]OperatingPoint, error) {
	n := len(y)
	if n == 0 {
		return nil, ErrEmpty
	}
	if len(score) != n {
		return nil, fmt.Errorf("%w: %d rows need %d scores, have %d", ErrLength, n, n, len(score))
	}
	if err := checkLabels("y", y, 2); err != nil {
		return nil, err
	}
	if err := checkFinite("score", score); err != nil {
		return nil, err
	}
	if err := checkWeights(w, n); err != nil {
		return nil, err
	}
	weight := func(i int) float64 {
		if w == nil {
			return 1
		}
		return w[i]
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(score[b], score[a]) })
	out := []OperatingPoint{{Threshold: math.Inf(1)}}
	var tp, fp float64
	for i := 0; i < n; {
		t := score[order[i]]
		for ; i < n && score[order[i]] == t; i++ {
			if y[order[i]] == 1 {
				tp += weight(order[i])
			} else {
				fp += weight(order[i])
			}
		}
		out = append(out, OperatingPoint{Threshold: t, TP: tp, FP: fp})
	}
	// The totals are the last point's sums, so that its TN and FN are
	// exactly 0 when weights round.
	for i := range out {
		out[i].TN, out[i].FN = fp-out[i].FP, tp-out[i].TP
	}
	return out, nil
}

// AreaUnderROC is the trapezoidal area under the ROC curve of points as
// OperatingPoints returns them; equal to ROCAUC on the same rows, NaN if
// either class is missing.
func AreaUnderROC(points []OperatingPoint) float64 {
	var area float64
	for i := 1; i < len(points); i++ {
		a, b := points[i-1], points[i]
		area += (b.FPR() - a.FPR()) * (a.TPR() + b.TPR()) / 2
	}
	return area
}

// AveragePrecision is the area under the precision–recall step curve of
// points as OperatingPoints returns them: Σ (Rₙ − Rₙ₋₁) Pₙ over the
// thresholds, without interpolation, as scikit-learn's
// average_precision_score. It is NaN without positives.
func AveragePrecision(points []OperatingPoint) float64 {
	if len(points) == 0 || points[0].TP+points[0].FN == 0 {
		return math.NaN()
	}
	var ap float64
	for i := 1; i < len(points); i++ {
		ap += (points[i].TPR() - points[i-1].TPR()) * points[i].Precision()
	}
	return ap
}
