package store_test

import (
	"encoding/json"
	"testing"

	"github.com/tabforge/tabforge/store"
)

// TestRowOfUndefinedMetric: a metric written as null (undefined, such as
// the R² of one test row) is missing from the run's row, not 0.
func TestRowOfUndefinedMetric(t *testing.T) {
	r := &store.Run{ID: "r", Result: json.RawMessage(`{"metric":"r2","leaderboard":[{"cv":{"r2":0.5},"test":{"r2":null}}]}`)}
	row := store.RowOf(r)
	if row.CV == nil || *row.CV != 0.5 {
		t.Errorf("CV = %v; want 0.5", row.CV)
	}
	if row.Test != nil {
		t.Errorf("Test = %v; want none for a null metric", *row.Test)
	}
}

// TestMatchesText checks the search box in memory against what SQLite's
// LIKE gives store/sqlite: ASCII case folds, other letters do not.
func TestMatchesText(t *testing.T) {
	row := &store.RunRow{ID: "ab12", DatasetPath: `C:\data\Éte.csv`, Target: "Sale_Price"}
	tests := []struct {
		text string
		want bool
	}{
		{"sale_price", true},
		{"DATA", true},
		{"éte", false}, // SQLite folds ASCII only
		{"Éte", true},
		{"\xc3", true}, // a byte of É: compared as stored
		{"zz", false},
	}
	for _, tt := range tests {
		if got := (store.RunQuery{Text: tt.text}).Matches(row); got != tt.want {
			t.Errorf("Matches(Text %q) = %v; want %v", tt.text, got, tt.want)
		}
	}
}
