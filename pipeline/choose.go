package pipeline

import (
	"fmt"
	"math"
	"slices"

	"github.com/tabforge/tabforge/eval"
)

// choose moves to the front of lb, ranked by metric, the entry that
// breaks a near tie at the top better than the ranking does, and says
// why in its Chosen field. Binary leaderboards (ranked by ROC AUC) break
// ties by log-loss (preferLowerLogLoss). Under time-ordered CV (the folds
// are periods) the others break them by fewer fitted ensemble weights
// (preferSimplerEnsemble); under exchangeable folds, by the ensemble
// whose CV is nested (preferNestedSelection). On the meta corpus's 37
// binary datasets the log-loss rule alone beat applying it before or
// after the fewer-weights rule: where greedy selection led by AUC with the
// lowest log-loss, the fewer-weights rule moved to the average and lost
// (docs/quality-selection.md).
func choose(lb []Entry, metric string, folds int, timeOrdered bool) {
	switch {
	case metric == eval.KeyAUC:
		preferLowerLogLoss(lb, folds)
	case timeOrdered:
		preferSimplerEnsemble(lb, metric, folds)
	case len(lb) > 0 && lb[0].Model == ensembleSelection:
		// Selection leads on a nested CV score: it stays.
	case !preferNestedSelection(lb, metric, folds):
		preferSimplerEnsemble(lb, metric, folds)
	}
}

// preferNestedSelection moves greedy selection to the front of lb when an
// equal-weight ensemble (the top-k average or vote) leads and selection's
// CV score lies within one standard error of the leader's (its fold
// standard deviation over √folds), and reports whether it did. The two
// scores are not alike: selection's weights are refitted on each fold's
// training rows, so its CV is nested, while the average's members are the
// k best by the very folds that then score it, which flatters it by about
// the noise of choosing among the candidates. Under exchangeable folds
// the fitted weights carry to new rows, so a near tie goes to the honest
// score. (Under time-ordered CV equal weights stay: fitted combination
// weights do not carry from one period to the next, the forecast
// combination puzzle.) On the meta corpus in production against the
// fewer-weights rule: regression's 26 shuffled datasets 7 wins, 16 ties,
// 3 losses; multiclass 6/15/2 (docs/quality-selection.md).
func preferNestedSelection(lb []Entry, metric string, folds int) bool {
	best, se, ok := leaderSE(lb, metric, folds)
	if !ok {
		return false
	}
	if w, isEnsemble := fittedWeights[lb[0].Model]; !isEnsemble || w != 0 {
		return false
	}
	pick := slices.IndexFunc(lb, func(e Entry) bool { return e.Model == ensembleSelection && e.Error == "" })
	if pick < 0 {
		return false
	}
	v, ok := lb[pick].CV[metric]
	if !ok || math.IsNaN(v) || math.Abs(best-v) > se {
		return false
	}
	promote(lb, pick, fmt.Sprintf("CV %s %.4g is within one standard error (%.3g) of %s's %.4g; selection's weights were refitted on each fold's training rows, while %s's members were chosen by the folds that score it",
		metric, v, se, lb[0].Model, best, lb[0].Model))
	return true
}

// leaderSE returns the CV metric of lb's leader and one standard error of
// it (its fold standard deviation over √folds); ok is false when there is
// no scored leader and rival to break a tie between.
func leaderSE(lb []Entry, metric string, folds int) (best, se float64, ok bool) {
	if len(lb) < 2 || folds < 2 || lb[0].Error != "" {
		return 0, 0, false
	}
	best, okCV := lb[0].CV[metric]
	std, okStd := lb[0].CVStd[metric]
	if !okCV || !okStd || math.IsNaN(std) {
		return 0, 0, false
	}
	return best, std / math.Sqrt(float64(folds)), true
}

// promote moves lb[i] to the front, the entries before it keeping their
// order, and records why in its Chosen field.
func promote(lb []Entry, i int, why string) {
	e := lb[i]
	e.Chosen = why
	copy(lb[1:i+1], lb[:i])
	lb[0] = e
}

// preferSimplerEnsemble applies the one-standard-error rule (Breiman et
// al., Classification and Regression Trees, 1984; Hastie, Tibshirani and
// Friedman, The Elements of Statistical Learning, §7.10) among ensembles:
// when the leader of lb (ranked by CV) is an ensemble whose combiner was
// fitted, the ensemble with the fewest fitted weights whose CV score is
// within one standard error of the leader's (its fold standard deviation
// over √folds) moves to the front. Out of sample, fitted combination
// weights rarely beat equal ones by more than their estimation noise
// (the forecast combination puzzle: Stock and Watson, 2004; Smith and
// Wallis, 2009), and the CV scores of ensembles built from the same
// members differ by less than that noise. Single models keep their
// place by CV. choose says where it applies.
func preferSimplerEnsemble(lb []Entry, metric string, folds int) {
	best, se, ok := leaderSE(lb, metric, folds)
	if !ok || fittedWeights[lb[0].Model] == 0 {
		return
	}
	lead := fittedWeights[lb[0].Model]
	pick, pickWeights := -1, lead
	for i, e := range lb[1:] {
		w, ok := fittedWeights[e.Model]
		v, okV := e.CV[metric]
		if !ok || !okV || e.Error != "" || w >= pickWeights || math.Abs(best-v) > se {
			continue
		}
		pick, pickWeights = i+1, w
	}
	if pick < 0 {
		return
	}
	promote(lb, pick, fmt.Sprintf("CV %s %.4g is within one standard error (%.3g) of %s's %.4g, with fewer fitted combination weights",
		metric, lb[pick].CV[metric], se, lb[0].Model, best))
}

// preferLowerLogLoss breaks near ties of a binary leaderboard ranked by
// ROC AUC with log-loss: among the entries whose CV AUC lies within one
// standard error of the leader's (the leader's fold standard deviation
// over √folds), the one with the lowest CV log-loss moves to the front.
// AUC is a rank statistic whose fold means differ by less than their
// noise on a few hundred rows per fold; log-loss is a proper scoring rule
// that separates them with less noise. The AUC compared is the one rank
// ordered by (CVRanked when set), and so is the log-loss: each entry's
// mean over the folds every entry shares (an ensemble under time-ordered
// CV is not scored on the first fold), else over its folds.
func preferLowerLogLoss(lb []Entry, folds int) {
	if len(lb) < 2 || folds < 2 || lb[0].Error != "" {
		return
	}
	common := commonFolds(lb)
	best, okCV := rankedAUC(lb[0])
	std, okStd := lb[0].CVStd[eval.KeyAUC]
	lead, okLL := rankedLogLoss(lb[0], common)
	if !okCV || !okStd || !okLL || math.IsNaN(std) {
		return
	}
	se := std / math.Sqrt(float64(folds))
	pick, pickLL := 0, lead
	for i, e := range lb[1:] {
		v, okV := rankedAUC(e)
		ll, okL := rankedLogLoss(e, common)
		if e.Error != "" || !okV || !okL || best-v > se || ll >= pickLL {
			continue
		}
		pick, pickLL = i+1, ll
	}
	if pick == 0 {
		return
	}
	v, _ := rankedAUC(lb[pick])
	promote(lb, pick, fmt.Sprintf("CV auc %.4g is within one standard error (%.3g) of %s's %.4g, with the lowest CV log-loss (%.4g against %.4g)",
		v, se, lb[0].Model, best, pickLL, lead))
}

// rankedAUC is the CV AUC rank orders e by: its mean over the folds
// every entry shares when those are not all folds, else over its folds.
func rankedAUC(e Entry) (float64, bool) {
	if e.CVRanked != nil {
		return *e.CVRanked, true
	}
	v, ok := e.CV[eval.KeyAUC]
	return v, ok && !math.IsNaN(v)
}

// rankedLogLoss is e's CV log-loss over the folds marked common (nil:
// all), as rankedAUC's AUC is. An entry that kept no log-loss per fold
// (one cached before they were kept) has none to compare when only some
// folds are shared.
func rankedLogLoss(e Entry, common []bool) (float64, bool) {
	v, ok := e.CV[eval.KeyLogLoss]
	if common != nil {
		if len(e.foldLogLoss) != len(common) {
			return 0, false
		}
		v, ok = meanOver(e.foldLogLoss, common), true
	}
	return v, ok && !math.IsNaN(v)
}
