package eval

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Metrics maps metric key names (the Key constants) to values.
type Metrics map[string]float64

// Metric key names. They are part of the CLI and report contract: renaming
// one breaks saved leaderboards and scripts.
const (
	KeyR2        = "r2"        // R2
	KeyRMSE      = "rmse"      // RMSE
	KeyMAE       = "mae"       // MAE
	KeyMAPE      = "mape"      // MAPE, a fraction
	KeyWithin20  = "within20"  // WithinPct with tol 0.2, a percentage
	KeyAccuracy  = "accuracy"  // Accuracy of PredictLabels
	KeyAUC       = "auc"       // ROCAUC
	KeyLogLoss   = "logloss"   // LogLoss
	KeyF1        = "f1"        // F1 of PredictLabels
	KeyPrecision = "precision" // Precision of PredictLabels
	KeyRecall    = "recall"    // Recall of PredictLabels
)

// Higher reports whether a larger value of the metric is better, for
// ranking a leaderboard: true for r2, within20, accuracy, auc, f1,
// precision and recall; false for the losses (rmse, mae, mape, logloss)
// and for unknown names.
func Higher(metric string) bool {
	switch metric {
	case KeyR2, KeyWithin20, KeyAccuracy, KeyAUC, KeyF1, KeyPrecision, KeyRecall:
		return true
	}
	return false
}

// Regression returns the regression metrics r2, rmse, mae, mape and
// within20 of predictions pred for targets y.
func Regression(y, pred []float64) (Metrics, error) {
	if err := checkPair(y, pred, nil); err != nil {
		return nil, fmt.Errorf("eval: regression metrics: %w", err)
	}
	m := Metrics{}
	steps := []struct {
		key string
		fn  func() (float64, error)
	}{
		{KeyR2, func() (float64, error) { return R2(y, pred, nil) }},
		{KeyRMSE, func() (float64, error) { return RMSE(y, pred, nil) }},
		{KeyMAE, func() (float64, error) { return MAE(y, pred, nil) }},
		{KeyMAPE, func() (float64, error) { return MAPE(y, pred, nil) }},
		{KeyWithin20, func() (float64, error) { return WithinPct(y, pred, 0.2, nil) }},
	}
	for _, s := range steps {
		v, err := s.fn()
		if err != nil {
			return nil, fmt.Errorf("eval: regression metrics: %s: %w", s.key, err)
		}
		m[s.key] = v
	}
	return m, nil
}

// Classification returns the classification metrics accuracy, auc,
// logloss, f1, precision and recall for true classes y (class indices
// 0..k-1 stored as float64, as in model.Dataset.Y) and predicted
// probabilities prob: for k = 2 one value per row, the probability of class
// 1; for k > 2, k values per row, row-major. Label metrics use
// PredictLabels. auc is NaN when y has a single class (see ROCAUC).
func Classification(y []float64, prob []float64, k int) (Metrics, error) {
	labels, err := classIndices(y, k)
	if err != nil {
		return nil, fmt.Errorf("eval: classification metrics: %w", err)
	}
	if err := checkProb(prob, len(y), k); err != nil {
		return nil, fmt.Errorf("eval: classification metrics: %w", err)
	}
	pred, err := PredictLabels(prob, k)
	if err != nil {
		return nil, fmt.Errorf("eval: classification metrics: %w", err)
	}
	m := Metrics{}
	steps := []struct {
		key string
		fn  func() (float64, error)
	}{
		{KeyAccuracy, func() (float64, error) { return Accuracy(labels, pred, k, nil) }},
		{KeyAUC, func() (float64, error) { return ROCAUC(labels, prob, k, nil) }},
		{KeyLogLoss, func() (float64, error) { return LogLoss(labels, prob, k, nil) }},
		{KeyF1, func() (float64, error) { return F1(labels, pred, k, nil) }},
		{KeyPrecision, func() (float64, error) { return Precision(labels, pred, k, nil) }},
		{KeyRecall, func() (float64, error) { return Recall(labels, pred, k, nil) }},
	}
	for _, s := range steps {
		v, err := s.fn()
		if err != nil {
			return nil, fmt.Errorf("eval: classification metrics: %s: %w", s.key, err)
		}
		m[s.key] = v
	}
	return m, nil
}

// classIndices converts float64 class indices to ints, checking that each
// is an integer in [0, k).
func classIndices(y []float64, k int) ([]int, error) {
	if err := checkK(k); err != nil {
		return nil, err
	}
	if len(y) == 0 {
		return nil, ErrEmpty
	}
	out := make([]int, len(y))
	for i, v := range y {
		if !(v >= 0 && v < float64(k)) || v != math.Trunc(v) {
			return nil, fmt.Errorf("eval: y[%d] = %v is not a class index in [0, %d)", i, v, k)
		}
		out[i] = int(v)
	}
	return out, nil
}

// Summarize returns the mean and the sample standard deviation (n-1
// denominator, like pandas and the usual "CV score ± std" report) of each
// metric over folds. NaN values (an undefined metric on a fold, such as the
// AUC of a single-class fold) and folds lacking a key are skipped, so each
// metric is summarised over the folds where it is defined; its mean is NaN
// if there are none, and its std is NaN if there are fewer than two.
func Summarize(folds []Metrics) (mean, std Metrics) {
	mean, std = Metrics{}, Metrics{}
	values := map[string][]float64{}
	for _, m := range folds {
		for k, v := range m {
			if _, ok := values[k]; !ok {
				values[k] = nil
			}
			if !math.IsNaN(v) {
				values[k] = append(values[k], v)
			}
		}
	}
	for k, vs := range values {
		mean[k], std[k] = math.NaN(), math.NaN()
		if len(vs) == 0 {
			continue
		}
		var sum float64
		for _, v := range vs {
			sum += v
		}
		mu := sum / float64(len(vs))
		mean[k] = mu
		if len(vs) < 2 {
			continue
		}
		var ss float64
		for _, v := range vs {
			ss += (v - mu) * (v - mu)
		}
		std[k] = math.Sqrt(ss / float64(len(vs)-1))
	}
	return mean, std
}

// Undefined counts, per metric, the folds on which it is undefined: NaN
// (the AUC of a single-class fold, the R² of a constant target), or
// absent where another fold has it. Summarize leaves those folds out of
// the metric's mean and std, which a reader of the summary must be told.
// It is nil when every metric is defined on every fold.
func Undefined(folds []Metrics) map[string]int {
	var out map[string]int
	keys := map[string]bool{}
	for _, m := range folds {
		for k := range m {
			keys[k] = true
		}
	}
	for k := range keys {
		n := 0
		for _, m := range folds {
			if v, ok := m[k]; !ok || math.IsNaN(v) {
				n++
			}
		}
		if n > 0 {
			if out == nil {
				out = map[string]int{}
			}
			out[k] = n
		}
	}
	return out
}

// FoldsText names CV folds (from 1): "folds 2-5" for a run of them,
// "fold 3" for one, else a list ("folds 2,4").
func FoldsText(folds []int) string {
	if len(folds) == 1 {
		return fmt.Sprintf("fold %d", folds[0])
	}
	if len(folds) > 0 && folds[len(folds)-1]-folds[0] == len(folds)-1 {
		return fmt.Sprintf("folds %d-%d", folds[0], folds[len(folds)-1])
	}
	parts := make([]string, len(folds))
	for i, f := range folds {
		parts[i] = strconv.Itoa(f)
	}
	return "folds " + strings.Join(parts, ",")
}

// UndefinedText says which metrics of undefined (see Undefined) are
// undefined on how many of folds, in name order, and why when
// UndefinedWhy knows: "auc undefined on 1 of 5 folds (mean over the
// other 4)"; "" when undefined is empty.
func UndefinedText(undefined map[string]int, folds int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(undefined)) {
		n := undefined[k]
		s := fmt.Sprintf("%s undefined on %d of %d folds", k, n, folds)
		if why := UndefinedWhy(k); why != "" {
			s += ": " + why
		}
		if n < folds {
			s += fmt.Sprintf(" (mean over the other %d)", folds-n)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// UndefinedWhy says why metric key is undefined (NaN) where the reason
// is the data's, not plain from the metric: for mape, a target of 0
// (see MAPE); "" for the others.
func UndefinedWhy(key string) string {
	if key == KeyMAPE {
		return "a true value is 0, which has no percentage error"
	}
	return ""
}

// MarshalJSON writes an undefined metric (NaN, such as the AUC of a
// single class, or ±Inf) as null, which JSON can carry, instead of
// failing the whole encoding; keys are sorted as for any map.
func (m Metrics) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("null"), nil
	}
	out := make(map[string]*float64, len(m))
	for k, v := range m {
		out[k] = JSONValue(v)
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes: null is NaN.
func (m *Metrics) UnmarshalJSON(b []byte) error {
	var in map[string]*float64
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	if in == nil {
		*m = nil
		return nil
	}
	*m = make(Metrics, len(in))
	for k, v := range in {
		(*m)[k] = FromJSONValue(v)
	}
	return nil
}

// JSONValue is v for a JSON encoding: nil (null) where v is NaN or ±Inf,
// which JSON cannot hold.
func JSONValue(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// FromJSONValue reads what JSONValue writes: null is NaN.
func FromJSONValue(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}
