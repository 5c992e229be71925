package continuous

import (
	"math"
	"slices"
	"strings"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
)

// This file finds the rows of new data the champion never trained on, so
// that retrain holds out no row the champion has seen: scored on its own
// training rows, a champion looks better than it is there, which keeps
// it against a challenger and hides its decay from --decay.

// championData reads the champion's training data file with the column
// kinds of the new data x (for drift, which compares the two), or returns
// nil when that file cannot be read any more.
func championData(champ *registry.Model, cfg *config.Config, x *frame.Frame) *frame.Frame {
	opts := pipeline.ReadOptions(cfg)
	opts.Schema, opts.SchemaOptional = x.KindMap(), true
	ref, err := frame.ReadFile(champ.DatasetPath, opts)
	if err != nil {
		return nil
	}
	return ref
}

// rowsAfter counts the rows of x whose time is after the newest time of
// ref, the champion's training data, ordered by the time column (or its
// parts) as training orders it; ok is false without a time both hold.
// Without a time column, file order is the only order, and the newer
// rows are those appended after ref's (rowsAppended).
func rowsAfter(ref, x *frame.Frame, timeColumn string) (n int, ok bool) {
	if timeColumn == "" {
		return rowsAppended(ref, x)
	}
	// One key over both frames' time columns: a key of parts ranks the
	// rows it is given, so the two must be ranked together.
	var cols []*frame.Column
	for part := range strings.SplitSeq(timeColumn, ",") {
		a, okA := ref.Lookup(strings.TrimSpace(part))
		b, okB := x.Lookup(strings.TrimSpace(part))
		if !okA || !okB || a.Kind == frame.Categorical || b.Kind == frame.Categorical {
			return 0, false
		}
		cols = append(cols, frame.NewNumeric(a.Name, slices.Concat(a.Num, b.Num)))
	}
	both, err := frame.New(cols...)
	if err != nil {
		return 0, false
	}
	key, err := pipeline.TimeKey(both, timeColumn)
	if err != nil {
		return 0, false
	}
	end := math.Inf(-1)
	for _, k := range key[:ref.NumRows()] {
		if k > end { // NaN, a missing time, never is
			end = k
		}
	}
	if math.IsInf(end, -1) {
		return 0, false
	}
	for _, k := range key[ref.NumRows():] {
		if k > end {
			n++
		}
	}
	return n, true
}

// rowsAppended counts the rows of x after its first ref.NumRows() rows
// when those are ref's rows, in order, with the same columns: new rows
// appended to the champion's data file. Retrain holds out the last rows
// of a file without a time column, and new data is most often the old
// file with rows added: a 20% share reached back into the rows the
// champion was fitted on whenever fewer were added. ok is false when x
// does not begin with ref's rows, or adds none.
func rowsAppended(ref, x *frame.Frame) (n int, ok bool) {
	if ref.NumCols() != x.NumCols() || ref.NumRows() >= x.NumRows() {
		return 0, false
	}
	for _, a := range ref.Columns() {
		b, found := x.Lookup(a.Name)
		if !found || a.Kind != b.Kind || !samePrefix(a, b, ref.NumRows()) {
			return 0, false
		}
	}
	return x.NumRows() - ref.NumRows(), true
}

// samePrefix reports whether the first n rows of a and b, of one kind,
// hold the same values (missing where the other is missing).
func samePrefix(a, b *frame.Column, n int) bool {
	for i := range n {
		switch {
		case a.Kind == frame.Categorical:
			if a.IsMissing(i) != b.IsMissing(i) || a.Label(i) != b.Label(i) {
				return false
			}
		case math.IsNaN(a.Num[i]) || math.IsNaN(b.Num[i]):
			if !math.IsNaN(a.Num[i]) || !math.IsNaN(b.Num[i]) {
				return false
			}
		case a.Num[i] != b.Num[i] || a.Offset(i) != b.Offset(i):
			return false
		}
	}
	return true
}
