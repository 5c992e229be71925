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
