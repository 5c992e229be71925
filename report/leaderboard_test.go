package report

import (
	"slices"
	"testing"

	"github.com/tabforge/tabforge/eval"
)

// TestLeaderboardUndefinedCV: an entry whose CV metric was undefined on
// some folds (AUC of a one-class fold) gets a note saying so, beside the
// ranking note; the CV cell alone read as a mean over every fold.
func TestLeaderboardUndefinedCV(t *testing.T) {
	d := &Data{Metric: "auc", Leaderboard: []Entry{
		{Model: "logistic", CV: eval.Metrics{"auc": 0.87}, CVStd: eval.Metrics{"auc": 0.12}, CVFolds: 5, CVUndefined: map[string]int{"auc": 1}},
		{Model: "tree", CV: eval.Metrics{"auc": 0.8}, CVFolds: 5},
	}}
	s := leaderboardSection(d)
	want := "logistic: cv auc undefined on 1 of 5 folds (mean over the other 4)."
	if !slices.Contains(s.Notes, want) || len(s.Notes) != 2 {
		t.Errorf("notes %q; want the ranking note and %q", s.Notes, want)
	}
}
