package eval

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// ROCAUC returns the area under the ROC curve, the probability that a
// random positive row scores higher than a random negative one, ties
// counting one half (the average-rank, Mann–Whitney form, equal to
// sklearn.metrics.roc_auc_score). It takes O(n log n) time and O(n) memory.
//
// For k = 2, score has one value per row and the positive class is 1; for
// k > 2, score has k values per row (row-major, see the package comment)
// and the result is the one-vs-rest macro average over classes, like
// roc_auc_score(multi_class="ovr", average="macro"). Scores need not be
// probabilities (any finite values, such as margins, will do), nor sum to 1.
//
// The AUC is undefined when y (counting weight) has only one class; ROCAUC
// then returns NaN and a nil error, so that a cross-validation fold without
// positives does not abort a run (Summarize skips NaN). For k > 2, classes
// absent from y, or making up all of it, are left out of the average (where
// scikit-learn raises an error), and the result is NaN only if no class is
// left.
func ROCAUC(y []int, score []float64, k int, w []float64) (float64, error) {
	if err := checkK(k); err != nil {
		return math.NaN(), err
	}
	n := len(y)
	if n == 0 {
		return math.NaN(), ErrEmpty
	}
	if err := checkLabels("y", y, k); err != nil {
		return math.NaN(), err
	}
	want := n
	if k > 2 {
		want = n * k
	}
	if len(score) != want {
		return math.NaN(), fmt.Errorf("%w: %d rows and %d classes need %d scores, have %d", ErrLength, n, k, want, len(score))
	}
	if err := checkFinite("score", score); err != nil {
		return math.NaN(), err
	}
	if err := checkWeights(w, n); err != nil {
		return math.NaN(), err
	}
	if k == 2 {
		return binaryAUC(y, 1, score, 1, w), nil
	}
	var sum float64
	defined := 0
	for c := range k {
		a := binaryAUC(y, c, score[c:], k, w)
		if !math.IsNaN(a) {
			sum += a
			defined++
		}
	}
	if defined == 0 {
		return math.NaN(), nil
	}
	return sum / float64(defined), nil
}

// binaryAUC returns the AUC of class pos against all others, with the score
// of row i at score[i*stride]. It returns NaN if either side has no weight.
func binaryAUC(y []int, pos int, score []float64, stride int, w []float64) float64 {
	nPos := 0
	for _, c := range y {
		if c == pos {
			nPos++
		}
	}
	if w == nil {
		p, q := make([]float64, 0, nPos), make([]float64, 0, len(y)-nPos)
		for i, c := range y {
			if c == pos {
				p = append(p, score[i*stride])
			} else {
				q = append(q, score[i*stride])
			}
		}
		return countAUC(p, q)
	}
	p, q := make([]wscore, 0, nPos), make([]wscore, 0, len(y)-nPos)
	var wp, wq float64
	for i, c := range y {
		if w[i] == 0 {
			continue
		}
		s := wscore{score[i*stride], w[i]}
		if c == pos {
			p = append(p, s)
			wp += w[i]
		} else {
			q = append(q, s)
			wq += w[i]
		}
	}
	if wp == 0 || wq == 0 {
		return math.NaN()
	}
	return weightedAUC(p, q, wp, wq)
}

// countAUC is the unweighted AUC of positive scores p against negative
// scores q. It sorts p and q in place and counts, in integers (exact), for
// every positive the negatives strictly below it plus half those equal to
// it.
func countAUC(p, q []float64) float64 {
	if len(p) == 0 || len(q) == 0 {
		return math.NaN()
	}
	slices.Sort(p)
	slices.Sort(q)
	var twice int64 // twice the number of (positive, negative) pairs won, ties counting one half
	below, upTo := 0, 0
	for i := 0; i < len(p); {
		s := p[i]
		j := i + 1
		for j < len(p) && p[j] == s {
			j++
		}
		for below < len(q) && q[below] < s {
			below++
		}
		if upTo < below {
			upTo = below
		}
		for upTo < len(q) && q[upTo] == s {
			upTo++
		}
		twice += int64(j-i) * int64(2*below+(upTo-below))
		i = j
	}
	return float64(twice) / (2 * float64(len(p)) * float64(len(q)))
}

type wscore struct{ s, w float64 }

func byScore(a, b wscore) int { return cmp.Compare(a.s, b.s) }

// weightedAUC is the weighted AUC: Σ over pairs of w_pos·w_neg·[pos wins],
// ties counting one half, over wp·wq.
func weightedAUC(p, q []wscore, wp, wq float64) float64 {
	slices.SortFunc(p, byScore)
	slices.SortFunc(q, byScore)
	var sum, wBelow float64
	below := 0
	for i := 0; i < len(p); {
		s := p[i].s
		var wGroup float64
		j := i
		for ; j < len(p) && p[j].s == s; j++ {
			wGroup += p[j].w
		}
		for below < len(q) && q[below].s < s {
			wBelow += q[below].w
			below++
		}
		var wEqual float64
		for e := below; e < len(q) && q[e].s == s; e++ {
			wEqual += q[e].w
		}
		sum += wGroup * (wBelow + 0.5*wEqual)
		i = j
	}
	return sum / (wp * wq)
}
