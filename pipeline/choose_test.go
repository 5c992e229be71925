package pipeline

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/eval"
)

// TestPreferLowerLogLoss: among entries whose CV AUC lies within one
// standard error of the leader's, the one with the lowest CV log-loss
// moves to the front and says why; nothing else moves.
func TestPreferLowerLogLoss(t *testing.T) {
	e := func(name string, auc, aucStd, ll, llStd float64) Entry {
		return Entry{Model: name, CV: eval.Metrics{"auc": auc, "logloss": ll}, CVStd: eval.Metrics{"auc": aucStd, "logloss": llStd}}
	}
	failed := e("logistic", 0.95, 0.01, 0.05, 0.01)
	failed.Error = "boom"
	ranked := func(x Entry, v float64) Entry {
		x.CVRanked = &v
		return x
	}
	nan := math.NaN()
	folds := func(x Entry, auc, ll []float64) Entry {
		x.foldScores, x.foldLogLoss = auc, ll
		return x
	}
	// 4 folds and a leader's AUC fold std of 0.02: one SE is 0.01.
	for _, tc := range []struct {
		name string
		lb   []Entry
		want []string
	}{
		{"lower log-loss within one SE moves up",
			[]Entry{e("forest", 0.920, 0.02, 0.24, 0.02), e(ensembleAverage, 0.915, 0.02, 0.16, 0.02), e("gbdt", 0.912, 0.02, 0.17, 0.02)},
			[]string{ensembleAverage, "forest", "gbdt"}},
		{"the lowest log-loss of several within one SE",
			[]Entry{e("forest", 0.920, 0.02, 0.24, 0.02), e(ensembleAverage, 0.915, 0.02, 0.16, 0.02), e("gbdt", 0.912, 0.02, 0.15, 0.02)},
			[]string{"gbdt", "forest", ensembleAverage}},
		{"lower log-loss beyond one SE stays",
			[]Entry{e("forest", 0.920, 0.02, 0.24, 0.02), e("gbdt", 0.905, 0.02, 0.15, 0.02)},
			[]string{"forest", "gbdt"}},
		{"the leader has the lowest log-loss",
			[]Entry{e("gbdt", 0.920, 0.02, 0.15, 0.02), e("forest", 0.918, 0.02, 0.24, 0.02)},
			[]string{"gbdt", "forest"}},
		{"selection leads with the lowest log-loss: no simpler average instead",
			[]Entry{e(ensembleSelection, 0.920, 0.02, 0.15, 0.02), e(ensembleAverage, 0.918, 0.02, 0.16, 0.02)},
			[]string{ensembleSelection, ensembleAverage}},
		{"a failed entry never moves",
			[]Entry{e("gbdt", 0.920, 0.02, 0.15, 0.02), failed},
			[]string{"gbdt", "logistic"}},
		// Under time-ordered CV an ensemble has no first fold: gbdt's
		// mean log-loss over all four (0.2375) beats the average's 0.25,
		// but over the three they share it is 0.30.
		{"log-loss compared on the folds every entry shares",
			[]Entry{folds(ranked(e("gbdt", 0.920, 0.02, 0.2375, 0.02), 0.920), []float64{0.92, 0.92, 0.92, 0.92}, []float64{0.05, 0.30, 0.30, 0.30}),
				folds(ranked(e(ensembleAverage, 0.915, 0.02, 0.25, 0.02), 0.915), []float64{nan, 0.915, 0.915, 0.915}, []float64{nan, 0.25, 0.25, 0.25})},
			[]string{ensembleAverage, "gbdt"}},
		{"an entry without log-loss per fold is not compared on shared folds",
			[]Entry{folds(ranked(e("gbdt", 0.920, 0.02, 0.2375, 0.02), 0.920), []float64{0.92, 0.92, 0.92, 0.92}, []float64{0.05, 0.30, 0.30, 0.30}),
				folds(ranked(e(ensembleAverage, 0.915, 0.02, 0.20, 0.02), 0.915), []float64{nan, 0.915, 0.915, 0.915}, nil)},
			[]string{"gbdt", ensembleAverage}},
		{"the shared-folds AUC decides the tie",
			[]Entry{ranked(e(ensembleAverage, 0.900, 0.02, 0.20, 0.02), 0.930), ranked(e("gbdt", 0.925, 0.02, 0.15, 0.02), 0.915)},
			[]string{ensembleAverage, "gbdt"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first := tc.lb[0].Model
			choose(tc.lb, "auc", 4, false)
			if got := entryModels(tc.lb); !slices.Equal(got, tc.want) {
				t.Fatalf("order %v; want %v", got, tc.want)
			}
			moved := tc.lb[0].Model != first
			if moved != (tc.lb[0].Chosen != "") || moved && !strings.Contains(tc.lb[0].Chosen, "log-loss") {
				t.Errorf("moved %v, but Chosen = %q", moved, tc.lb[0].Chosen)
			}
		})
	}
}

// entryModels names lb's entries in order.
func entryModels(lb []Entry) []string {
	out := make([]string, len(lb))
	for i, e := range lb {
		out[i] = e.Model
	}
	return out
}

// TestChooseByFolds: outside binary tasks a near tie between the top-k
// average and greedy selection goes to selection under exchangeable folds
// (its CV is nested, the average's members were chosen on the folds that
// score it) and to the average under time-ordered folds (fewer fitted
// weights); beyond one standard error, or with a single model leading,
// nothing moves.
func TestChooseByFolds(t *testing.T) {
	e := func(name string, cv, std float64) Entry {
		return Entry{Model: name, CV: eval.Metrics{"r2": cv, "logloss": cv}, CVStd: eval.Metrics{"r2": std, "logloss": std}}
	}
	failed := e(ensembleSelection, 0.919, 0.01)
	failed.Error = "boom"
	// Nothing to break a tie between: no entry, or one.
	for _, metric := range []string{"r2", "logloss", "auc"} {
		for _, timeOrdered := range []bool{false, true} {
			choose(nil, metric, 5, timeOrdered)
			one := []Entry{e(ensembleAverage, 0.9, 0.01)}
			if choose(one, metric, 5, timeOrdered); one[0].Chosen != "" {
				t.Errorf("%s, time-ordered %v: a lone entry was chosen over nothing: %q", metric, timeOrdered, one[0].Chosen)
			}
		}
	}
	// 5 folds and a fold std of 0.01: one SE is 0.00447.
	for _, tc := range []struct {
		name        string
		metric      string
		timeOrdered bool
		lb          []Entry
		want        []string
		why         string
	}{
		{"average leads, selection within one SE: selection", "r2", false,
			[]Entry{e(ensembleAverage, 0.920, 0.01), e("gbdt", 0.919, 0.01), e(ensembleSelection, 0.917, 0.01)},
			[]string{ensembleSelection, ensembleAverage, "gbdt"}, "refitted on each fold"},
		{"the same under time-ordered folds: unchanged", "r2", true,
			[]Entry{e(ensembleAverage, 0.920, 0.01), e("gbdt", 0.919, 0.01), e(ensembleSelection, 0.917, 0.01)},
			[]string{ensembleAverage, "gbdt", ensembleSelection}, ""},
		{"selection leads: stays", "r2", false,
			[]Entry{e(ensembleSelection, 0.920, 0.01), e(ensembleAverage, 0.919, 0.01)},
			[]string{ensembleSelection, ensembleAverage}, ""},
		{"selection leads under time-ordered folds: the average", "r2", true,
			[]Entry{e(ensembleSelection, 0.920, 0.01), e(ensembleAverage, 0.919, 0.01)},
			[]string{ensembleAverage, ensembleSelection}, "fewer fitted"},
		{"selection beyond one SE: unchanged", "r2", false,
			[]Entry{e(ensembleAverage, 0.920, 0.01), e(ensembleSelection, 0.915, 0.01)},
			[]string{ensembleAverage, ensembleSelection}, ""},
		{"a single model leads: unchanged", "r2", false,
			[]Entry{e("gbdt", 0.921, 0.01), e(ensembleAverage, 0.920, 0.01), e(ensembleSelection, 0.920, 0.01)},
			[]string{"gbdt", ensembleAverage, ensembleSelection}, ""},
		{"vote leads: selection", "r2", false,
			[]Entry{e(ensembleVoting, 0.920, 0.01), e(ensembleStacking, 0.919, 0.01), e(ensembleSelection, 0.918, 0.01)},
			[]string{ensembleSelection, ensembleVoting, ensembleStacking}, "refitted on each fold"},
		{"stacking leads, no selection: the vote by fewer weights", "r2", false,
			[]Entry{e(ensembleStacking, 0.920, 0.01), e(ensembleVoting, 0.919, 0.01)},
			[]string{ensembleVoting, ensembleStacking}, "fewer fitted"},
		{"a failed selection never moves", "r2", false,
			[]Entry{e(ensembleAverage, 0.920, 0.01), failed},
			[]string{ensembleAverage, ensembleSelection}, ""},
		{"log-loss (lower is better) within one SE: selection", "logloss", false,
			[]Entry{e(ensembleAverage, 0.300, 0.01), e(ensembleSelection, 0.303, 0.01)},
			[]string{ensembleSelection, ensembleAverage}, "refitted on each fold"},
		{"log-loss beyond one SE: unchanged", "logloss", false,
			[]Entry{e(ensembleAverage, 0.300, 0.01), e(ensembleSelection, 0.306, 0.01)},
			[]string{ensembleAverage, ensembleSelection}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			choose(tc.lb, tc.metric, 5, tc.timeOrdered)
			if got := entryModels(tc.lb); !slices.Equal(got, tc.want) {
				t.Fatalf("order %v; want %v", got, tc.want)
			}
			if got := tc.lb[0].Chosen; tc.why == "" && got != "" || !strings.Contains(got, tc.why) {
				t.Errorf("Chosen = %q; want it to say %q", got, tc.why)
			}
		})
	}
}

// TestPreferSimplerEnsemble: the one-standard-error rule moves the
// ensemble with the fewest fitted weights within one SE of a fitted
// leader to the front, and changes nothing otherwise.
func TestPreferSimplerEnsemble(t *testing.T) {
	e := func(name string, cv, std float64) Entry {
		return Entry{Model: name, CV: eval.Metrics{"r2": cv}, CVStd: eval.Metrics{"r2": std}}
	}
	// 5 folds and a fold std of 0.01: one SE is 0.00447.
	for _, tc := range []struct {
		name string
		lb   []Entry
		want []string
	}{
		{"voting within one SE of stacking",
			[]Entry{e(ensembleStacking, 0.920, 0.01), e("gbdt", 0.918, 0.01), e(ensembleVoting, 0.917, 0.01)},
			[]string{ensembleVoting, ensembleStacking, "gbdt"}},
		{"voting beyond one SE",
			[]Entry{e(ensembleStacking, 0.920, 0.01), e(ensembleVoting, 0.915, 0.01)},
			[]string{ensembleStacking, ensembleVoting}},
		{"selection leads: voting beats stacking on fewer weights",
			[]Entry{e(ensembleSelection, 0.920, 0.01), e(ensembleStacking, 0.919, 0.01), e(ensembleVoting, 0.918, 0.01)},
			[]string{ensembleVoting, ensembleSelection, ensembleStacking}},
		{"selection leads, only stacking within one SE",
			[]Entry{e(ensembleSelection, 0.920, 0.01), e(ensembleStacking, 0.919, 0.01), e(ensembleVoting, 0.910, 0.01)},
			[]string{ensembleStacking, ensembleSelection, ensembleVoting}},
		{"a single model leads: unchanged",
			[]Entry{e("gbdt", 0.921, 0.01), e(ensembleStacking, 0.920, 0.01), e(ensembleVoting, 0.919, 0.01)},
			[]string{"gbdt", ensembleStacking, ensembleVoting}},
		{"voting leads: unchanged",
			[]Entry{e(ensembleVoting, 0.921, 0.01), e(ensembleAverage, 0.920, 0.01)},
			[]string{ensembleVoting, ensembleAverage}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first := tc.lb[0].Model
			preferSimplerEnsemble(tc.lb, "r2", 5)
			if got := entryModels(tc.lb); !slices.Equal(got, tc.want) {
				t.Fatalf("order %v; want %v", got, tc.want)
			}
			if moved := tc.lb[0].Model != first; moved != (tc.lb[0].Chosen != "") {
				t.Errorf("moved %v, but Chosen = %q", moved, tc.lb[0].Chosen)
			}
		})
	}
}
