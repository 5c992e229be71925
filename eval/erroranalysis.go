package eval

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
)

// This file holds error analysis: where a regression model's errors are
// largest (rows, feature ranges, segments) and how well a classifier's
// probabilities are calibrated.

// LargeError is one row among the largest errors.
type LargeError struct {
	// Row is the row's index in the inputs.
	Row      int     `json:"row"`
	Y        float64 `json:"y"`
	Pred     float64 `json:"pred"`
	Residual float64 `json:"residual"` // y - pred
	// RelError is |y - pred| / |y|, +Inf when y = 0 and pred ≠ 0.
	RelError float64 `json:"rel_error"`
	// Segment is the row's segment label, when segments were given.
	Segment string `json:"segment,omitempty"`
}

// TopErrors returns the k rows with the largest absolute error |y - pred|,
// largest first (ties by row index). segments may be nil; otherwise it
// labels each row.
func TopErrors(y, pred []float64, segments []string, k int) ([]LargeError, error) {
	if err := checkPair(y, pred, nil); err != nil {
		return nil, fmt.Errorf("eval: top errors: %w", err)
	}
	if segments != nil && len(segments) != len(y) {
		return nil, fmt.Errorf("eval: top errors: %w: y has %d rows, segments %d", ErrLength, len(y), len(segments))
	}
	order := make([]int, len(y))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		return math.Abs(y[order[a]]-pred[order[a]]) > math.Abs(y[order[b]]-pred[order[b]])
	})
	k = min(max(k, 0), len(y))
	out := make([]LargeError, k)
	for j, i := range order[:k] {
		e := LargeError{Row: i, Y: y[i], Pred: pred[i], Residual: y[i] - pred[i], RelError: relError(y[i], pred[i])}
		if segments != nil {
			e.Segment = segments[i]
		}
		out[j] = e
	}
	return out, nil
}

func relError(y, pred float64) float64 {
	d := math.Abs(y - pred)
	if d == 0 {
		return 0
	}
	return d / math.Abs(y)
}

// ResidualGroup summarises the residuals y - pred of a group of rows: a
// range of a feature's values or a segment.
type ResidualGroup struct {
	// Label names the group: a segment, or a feature range such as
	// "[3.2, 4.5)".
	Label string `json:"label"`
	// Lo and Hi bound a feature range (Hi included in the last bin);
	// both NaN for the bin of missing values and for segments.
	Lo   float64 `json:"lo"`
	Hi   float64 `json:"hi"`
	Rows int     `json:"rows"`
	// MeanResidual is mean(y - pred): positive when the model predicts too
	// low.
	MeanResidual float64 `json:"mean_residual"`
	MAE          float64 `json:"mae"`
	RMSE         float64 `json:"rmse"`
	// Within20 is the percentage of rows within 20% of the truth.
	Within20 float64 `json:"within20"`
}

// summarize fills the statistics of rows idx.
func summarize(label string, lo, hi float64, y, pred []float64, idx []int) ResidualGroup {
	g := ResidualGroup{Label: label, Lo: lo, Hi: hi, Rows: len(idx)}
	var sum, abs, sq, within float64
	for _, i := range idx {
		r := y[i] - pred[i]
		sum += r
		abs += math.Abs(r)
		sq += r * r
		if math.Abs(r) <= 0.2*math.Abs(y[i]) {
			within++
		}
	}
	n := float64(len(idx))
	g.MeanResidual, g.MAE, g.RMSE, g.Within20 = sum/n, abs/n, math.Sqrt(sq/n), 100*within/n
	return g
}

// ResidualsByBins groups rows by quantile bins of one feature's values x
// (up to bins bins of about equal counts; tied values never straddle two
// bins, so there may be fewer) and summarises each bin's residuals, in
// increasing order of x. Rows with a NaN x form a last bin labelled
// "missing".
func ResidualsByBins(x, y, pred []float64, bins int) ([]ResidualGroup, error) {
	if err := checkPair(y, pred, nil); err != nil {
		return nil, fmt.Errorf("eval: residuals by bins: %w", err)
	}
	if err := checkLen("x", len(y), len(x)); err != nil {
		return nil, fmt.Errorf("eval: residuals by bins: %w", err)
	}
	if bins < 1 {
		return nil, fmt.Errorf("eval: residuals by bins: %d bins: need at least 1", bins)
	}
	var present, missing []int
	for i, v := range x {
		if math.IsNaN(v) {
			missing = append(missing, i)
		} else {
			present = append(present, i)
		}
	}
	sort.SliceStable(present, func(a, b int) bool { return x[present[a]] < x[present[b]] })
	var out []ResidualGroup
	for start := 0; start < len(present); {
		end := max(start+1, (len(out)+1)*len(present)/bins)
		end = min(end, len(present))
		// Extend over ties so that equal values share a bin.
		for end < len(present) && x[present[end]] == x[present[end-1]] {
			end++
		}
		lo, hi := x[present[start]], x[present[end-1]]
		label := fmt.Sprintf("[%.4g, %.4g]", lo, hi)
		out = append(out, summarize(label, lo, hi, y, pred, present[start:end]))
		start = end
	}
	if len(missing) > 0 {
		out = append(out, summarize("missing", math.NaN(), math.NaN(), y, pred, missing))
	}
	return out, nil
}

// ResidualsBySegment summarises residuals per segment label, worst first:
// by lowest Within20, then by highest MAE, then by label.
func ResidualsBySegment(segments []string, y, pred []float64) ([]ResidualGroup, error) {
	if err := checkPair(y, pred, nil); err != nil {
		return nil, fmt.Errorf("eval: residuals by segment: %w", err)
	}
	if len(segments) != len(y) {
		return nil, fmt.Errorf("eval: residuals by segment: %w: y has %d rows, segments %d", ErrLength, len(y), len(segments))
	}
	groups := map[string][]int{}
	for i, s := range segments {
		groups[s] = append(groups[s], i)
	}
	out := make([]ResidualGroup, 0, len(groups))
	for s, idx := range groups {
		out = append(out, summarize(s, math.NaN(), math.NaN(), y, pred, idx))
	}
	slices.SortFunc(out, func(a, b ResidualGroup) int {
		switch {
		case a.Within20 != b.Within20:
			return cmp.Compare(a.Within20, b.Within20)
		case a.MAE != b.MAE:
			return cmp.Compare(b.MAE, a.MAE)
		}
		return cmp.Compare(a.Label, b.Label)
	})
	return out, nil
}

// WorstSegments returns the segments of ResidualsBySegment with at least
// minRows rows, worst first, at most k of them.
func WorstSegments(segments []string, y, pred []float64, minRows, k int) ([]ResidualGroup, error) {
	all, err := ResidualsBySegment(segments, y, pred)
	if err != nil {
		return nil, err
	}
	var out []ResidualGroup
	for _, g := range all {
		if g.Rows >= minRows && len(out) < k {
			out = append(out, g)
		}
	}
	return out, nil
}

// CalibrationBin is one bin of a reliability diagram.
type CalibrationBin struct {
	// Lo and Hi bound the bin's probabilities.
	Lo   float64 `json:"lo"`
	Hi   float64 `json:"hi"`
	Rows int     `json:"rows"`
	// MeanProb is the mean predicted probability (confidence) in the bin.
	MeanProb float64 `json:"mean_prob"`
	// Observed is the share of rows that were positive (binary) or
	// correctly classified (multiclass).
	Observed float64 `json:"observed"`
}

// CalibrationResult is the calibration of a classifier's probabilities.
type CalibrationResult struct {
	// Bins are the non-empty equal-width bins of [0, 1].
	Bins []CalibrationBin `json:"bins"`
	// ECE is the expected calibration error Σ_b (n_b/n)·|Observed_b -
	// MeanProb_b|.
	ECE float64 `json:"ece"`
	// Brier is the Brier score: mean (p - y)² for binary, the multiclass
	// mean of Σ_c (p_c - [y = c])² otherwise (as in Brier 1950).
	Brier float64 `json:"brier"`
	// TopLabel is true for multiclass, where the bins hold the top-label
	// confidence max_c p_c against accuracy.
	TopLabel bool `json:"top_label"`
}

// Calibration bins predicted probabilities into bins equal-width bins of
// [0, 1] and compares them with what happened. For k = 2, prob holds the
// probability of class 1 per row and the bins compare it with the share of
// class 1; for k > 2, prob holds k values per row and the bins compare the
// top-label confidence with accuracy.
func Calibration(y, prob []float64, k, bins int) (*CalibrationResult, error) {
	labels, err := classIndices(y, k)
	if err != nil {
		return nil, fmt.Errorf("eval: calibration: %w", err)
	}
	if err := checkProb(prob, len(y), k); err != nil {
		return nil, fmt.Errorf("eval: calibration: %w", err)
	}
	if bins < 1 {
		return nil, fmt.Errorf("eval: calibration: %d bins: need at least 1", bins)
	}
	n := len(y)
	conf := make([]float64, n)
	hit := make([]float64, n)
	res := &CalibrationResult{TopLabel: k > 2}
	for i, c := range labels {
		if k == 2 {
			conf[i] = prob[i]
			hit[i] = float64(c)
			d := prob[i] - hit[i]
			res.Brier += d * d
			continue
		}
		row := prob[i*k : (i+1)*k]
		best := 0
		for j, p := range row {
			if p > row[best] {
				best = j
			}
			t := 0.0
			if j == c {
				t = 1
			}
			res.Brier += (p - t) * (p - t)
		}
		conf[i] = row[best]
		if best == c {
			hit[i] = 1
		}
	}
	res.Brier /= float64(n)
	count := make([]int, bins)
	sumP := make([]float64, bins)
	sumY := make([]float64, bins)
	for i := range n {
		b := min(int(conf[i]*float64(bins)), bins-1)
		count[b]++
		sumP[b] += conf[i]
		sumY[b] += hit[i]
	}
	for b := range bins {
		if count[b] == 0 {
			continue
		}
		lo, hi := float64(b)/float64(bins), float64(b+1)/float64(bins)
		cb := CalibrationBin{Lo: lo, Hi: hi, Rows: count[b],
			MeanProb: sumP[b] / float64(count[b]), Observed: sumY[b] / float64(count[b])}
		res.ECE += float64(count[b]) / float64(n) * math.Abs(cb.Observed-cb.MeanProb)
		res.Bins = append(res.Bins, cb)
	}
	return res, nil
}
