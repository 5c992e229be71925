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

// TestLeaderboardRankedFolds: ranked on the folds every entry shares, the
// table shows each entry's score there beside its CV over all its folds.
func TestLeaderboardRankedFolds(t *testing.T) {
	ranked := func(v float64) *float64 { return &v }
	d := &Data{Metric: "r2", RankedFolds: []int{2, 3, 4, 5}, Leaderboard: []Entry{
		{Model: "ensemble:average", CV: eval.Metrics{"r2": 0.8323}, CVRanked: ranked(0.8323)},
		{Model: "gbdt", CV: eval.Metrics{"r2": 0.8369}, CVRanked: ranked(0.8310)},
	}}
	tb := leaderboardSection(d).Tables[0]
	col := slices.Index(tb.Head, "cv r2 folds 2-5")
	if col < 0 {
		t.Fatalf("head %q; want a column for the ranked folds", tb.Head)
	}
	if got, want := tb.Rows[1][col].Text, num(0.8310); got != want {
		t.Errorf("gbdt's ranked cell %q; want %q", got, want)
	}
	if len(tb.Rows[1]) != len(tb.Head) {
		t.Errorf("row of %d cells under %d heads", len(tb.Rows[1]), len(tb.Head))
	}
	d.RankedFolds = nil
	if tb := leaderboardSection(d).Tables[0]; slices.Contains(tb.Head, "cv r2 folds 2-5") {
		t.Errorf("every fold ranked, yet head %q", tb.Head)
	}
}

// TestLeaderboardMAPEInPercent: MAPE, a fraction in the metrics, is shown
// in percent beside within20's percent; 0.1059 read as a tenth of a
// percent next to 88.3.
func TestLeaderboardMAPEInPercent(t *testing.T) {
	d := &Data{Metric: "r2", Leaderboard: []Entry{
		{Model: "gbdt", CV: eval.Metrics{"r2": 0.9}, Test: eval.Metrics{"r2": 0.91, "mape": 0.1059, "within20": 88.3}},
	}}
	tb := leaderboardSection(d).Tables[0]
	col := slices.Index(tb.Head, "test mape %")
	if col < 0 {
		t.Fatalf("head %q; want a test mape %% column", tb.Head)
	}
	if got, want := tb.Rows[0][col].Text, num(10.59); got != want {
		t.Errorf("mape cell %q; want %q", got, want)
	}
}
