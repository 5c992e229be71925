package pipeline

import (
	"strings"
	"testing"
)

// TestRankedFoldsWarning checks the reason given for ranking on fewer
// folds than were run. Shuffled folds on which the AUC was undefined
// (a 99.5% majority class left three validation parts without a
// positive) were said to lack an ensemble's first time-series fold.
func TestRankedFoldsWarning(t *testing.T) {
	const ensemble = "an ensemble has no out-of-fold predictions to fit on for the first time-series fold"
	const undefined = "on the others auc is undefined for some model"
	for _, tt := range []struct {
		name        string
		ranked      []int
		timeOrdered bool
		want, not   string
	}{
		{"shuffled, undefined AUC", []int{4, 5}, false, "CV folds 4, 5, the ones every model was scored on (" + undefined, ensemble},
		{"time-ordered", []int{2, 3, 4, 5}, true, "CV folds 2, 3, 4, 5, the ones every model was scored on (" + ensemble + ")", undefined},
		{"time-ordered, undefined AUC too", []int{2, 4, 5}, true, "(" + ensemble + "; " + undefined, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := rankedFoldsWarning(tt.ranked, 5, tt.timeOrdered, "auc")
			if !strings.Contains(got, tt.want) || (tt.not != "" && strings.Contains(got, tt.not)) {
				t.Errorf("rankedFoldsWarning(%v, 5, %v) = %q; want it to contain %q and not %q", tt.ranked, tt.timeOrdered, got, tt.want, tt.not)
			}
		})
	}
}
