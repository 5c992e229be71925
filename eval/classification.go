package eval

import (
	"fmt"
	"math"
)

// Probabilities for binary and multiclass problems are laid out as the
// model package's Predict writes them: for k = 2 classes, one value per row,
// the probability of class 1; for k > 2, k values per row, row-major
// (prob[i*k+c] is the probability that row i is of class c).

// checkProb validates a probability vector for n rows and k classes.
func checkProb(prob []float64, n, k int) error {
	want := n
	if k > 2 {
		want = n * k
	}
	if len(prob) != want {
		return fmt.Errorf("%w: %d rows and %d classes need %d probabilities, have %d", ErrLength, n, k, want, len(prob))
	}
	for i, p := range prob {
		if !(p >= 0 && p <= 1) { // also rejects NaN
			return fmt.Errorf("eval: prob[%d] = %v is not a probability in [0, 1]", i, p)
		}
	}
	return nil
}

// PredictLabels returns the most probable class of each row: for k = 2,
// class 1 if its probability exceeds 0.5 (a tie goes to class 0); for k > 2,
// the first class of highest probability. This is the argmax of
// predict_proba that the baselines protocol scores accuracy with.
func PredictLabels(prob []float64, k int) ([]int, error) {
	if err := checkK(k); err != nil {
		return nil, err
	}
	n := len(prob)
	if k > 2 {
		if len(prob)%k != 0 {
			return nil, fmt.Errorf("%w: %d probabilities are not a multiple of %d classes", ErrLength, len(prob), k)
		}
		n = len(prob) / k
	}
	if err := checkProb(prob, n, k); err != nil {
		return nil, err
	}
	out := make([]int, n)
	for i := range out {
		if k == 2 {
			if prob[i] > 0.5 {
				out[i] = 1
			}
			continue
		}
		row := prob[i*k : (i+1)*k]
		best := 0
		for c, p := range row {
			if p > row[best] {
				best = c
			}
		}
		out[i] = best
	}
	return out, nil
}

// checkLabelPair validates true and predicted class indices.
func checkLabelPair(y, pred []int, k int, w []float64) error {
	if err := checkK(k); err != nil {
		return err
	}
	if len(y) == 0 {
		return ErrEmpty
	}
	if err := checkLen("pred", len(y), len(pred)); err != nil {
		return err
	}
	if err := checkLabels("y", y, k); err != nil {
		return err
	}
	if err := checkLabels("pred", pred, k); err != nil {
		return err
	}
	return checkWeights(w, len(y))
}

// ConfusionMatrix returns the k×k matrix whose entry [i][j] is the (weighted)
// number of rows of true class i predicted as class j, as
// sklearn.metrics.confusion_matrix with labels 0..k-1.
func ConfusionMatrix(y, pred []int, k int, w []float64) ([][]float64, error) {
	if err := checkLabelPair(y, pred, k, w); err != nil {
		return nil, err
	}
	return confusion(y, pred, k, w), nil
}

func confusion(y, pred []int, k int, w []float64) [][]float64 {
	m := make([][]float64, k)
	for i := range m {
		m[i] = make([]float64, k)
	}
	for i := range y {
		m[y[i]][pred[i]] += weight(w, i)
	}
	return m
}

// Accuracy returns the (weighted) fraction of rows whose predicted class
// equals the true class.
func Accuracy(y, pred []int, k int, w []float64) (float64, error) {
	if err := checkLabelPair(y, pred, k, w); err != nil {
		return math.NaN(), err
	}
	return weightedMean(len(y), w, func(i int) float64 {
		if y[i] == pred[i] {
			return 1
		}
		return 0
	}), nil
}

// prf holds precision, recall and F1.
type prf struct{ p, r, f float64 }

// classPRF returns precision, recall and F1 of class c from a confusion
// matrix; a zero denominator gives 0, as scikit-learn's zero_division
// default does (without its warning).
func classPRF(m [][]float64, c int) prf {
	tp := m[c][c]
	var predicted, actual float64
	for i := range m {
		predicted += m[i][c]
		actual += m[c][i]
	}
	var s prf
	if predicted > 0 {
		s.p = tp / predicted
	}
	if actual > 0 {
		s.r = tp / actual
	}
	if s.p+s.r > 0 {
		s.f = 2 * s.p * s.r / (s.p + s.r)
	}
	return s
}

// averagePRF is the binary score of class 1 for k = 2, and the macro average
// over the classes present in y or pred for k > 2 (scikit-learn's default
// label set), weighting every class equally.
func averagePRF(y, pred []int, k int, w []float64) (prf, error) {
	if err := checkLabelPair(y, pred, k, w); err != nil {
		return prf{}, err
	}
	m := confusion(y, pred, k, w)
	if k == 2 {
		return classPRF(m, 1), nil
	}
	present := make([]bool, k)
	for i := range y {
		present[y[i]] = true
		present[pred[i]] = true
	}
	var sum prf
	classes := 0
	for c := range k {
		if !present[c] {
			continue
		}
		s := classPRF(m, c)
		sum.p += s.p
		sum.r += s.r
		sum.f += s.f
		classes++
	}
	n := float64(classes)
	return prf{sum.p / n, sum.r / n, sum.f / n}, nil
}

// Precision returns tp/(tp+fp): for k = 2 of the positive class 1, for k > 2
// the unweighted mean over classes that occur in y or pred (macro average,
// sklearn.metrics.precision_score with average="binary" or "macro"). A class
// never predicted has precision 0.
func Precision(y, pred []int, k int, w []float64) (float64, error) {
	s, err := averagePRF(y, pred, k, w)
	if err != nil {
		return math.NaN(), err
	}
	return s.p, nil
}

// Recall returns tp/(tp+fn), averaged as Precision is. A class absent from y
// has recall 0.
func Recall(y, pred []int, k int, w []float64) (float64, error) {
	s, err := averagePRF(y, pred, k, w)
	if err != nil {
		return math.NaN(), err
	}
	return s.r, nil
}

// F1 returns the harmonic mean of precision and recall, averaged as
// Precision is (for k > 2, the mean of per-class F1 scores, as
// sklearn.metrics.f1_score with average="macro").
func F1(y, pred []int, k int, w []float64) (float64, error) {
	s, err := averagePRF(y, pred, k, w)
	if err != nil {
		return math.NaN(), err
	}
	return s.f, nil
}

// logLossEps is the probability clip of LogLoss: float64 machine epsilon,
// the default (eps="auto") of sklearn.metrics.log_loss since scikit-learn 1.2,
// the version of the peer baselines. Earlier versions clipped at 1e-15.
const logLossEps = 2.220446049250313e-16

// LogLoss returns the (weighted) mean negative log-likelihood of the true
// classes, as sklearn.metrics.log_loss (1.2): probabilities are clipped to
// [eps, 1-eps] with eps = 2.22e-16, and each row of a multiclass prob is
// renormalised to sum to 1 after clipping. See the package comment for the
// layout of prob.
func LogLoss(y []int, prob []float64, k int, w []float64) (float64, error) {
	if err := checkK(k); err != nil {
		return math.NaN(), err
	}
	if len(y) == 0 {
		return math.NaN(), ErrEmpty
	}
	if err := checkLabels("y", y, k); err != nil {
		return math.NaN(), err
	}
	if err := checkProb(prob, len(y), k); err != nil {
		return math.NaN(), err
	}
	if err := checkWeights(w, len(y)); err != nil {
		return math.NaN(), err
	}
	clip := func(p float64) float64 { return math.Min(math.Max(p, logLossEps), 1-logLossEps) }
	return weightedMean(len(y), w, func(i int) float64 {
		if k == 2 {
			p1 := clip(prob[i])
			p0 := 1 - p1
			p := p1
			if y[i] == 0 {
				p = p0
			}
			return -math.Log(p / (p0 + p1))
		}
		var sum float64
		for _, p := range prob[i*k : (i+1)*k] {
			sum += clip(p)
		}
		return -math.Log(clip(prob[i*k+y[i]]) / sum)
	}), nil
}
