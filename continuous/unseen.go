package continuous

import (
	"math"
	"strings"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/registry"
)

// This file finds the rows of new data the champion never trained on, so
// that retrain holds out no row the champion has seen: scored on its own
// training rows, a champion looks better than it is there, which keeps
// it against a challenger and hides its decay from --decay.

// seenThrough returns the newest time of the champion's training data,
// one value per part of timeColumn, when its file still holds the data
// it trained on (the same content hash); ok is false otherwise, or
// without a time column.
func seenThrough(champ *registry.Model, cfg *config.Config) (end []float64, ok bool) {
	if cfg.TimeColumn == "" || champ.DatasetPath == "" {
		return nil, false
	}
	ref, err := frame.ReadFile(champ.DatasetPath, readOptions(cfg))
	if err != nil || ref.Hash() != champ.DatasetHash {
		return nil, false
	}
	parts, ok := timeParts(ref, cfg.TimeColumn)
	if !ok {
		return nil, false
	}
	newest := -1
	for r := range ref.NumRows() {
		if complete(parts, r) && (newest < 0 || compareRows(parts, r, parts, newest) > 0) {
			newest = r
		}
	}
	if newest < 0 {
		return nil, false
	}
	for _, c := range parts {
		end = append(end, c.Num[newest])
	}
	return end, true
}

// rowsAfter counts the rows of x whose time (by the parts of timeColumn)
// is after end.
func rowsAfter(x *frame.Frame, timeColumn string, end []float64) int {
	parts, ok := timeParts(x, timeColumn)
	if !ok || len(parts) != len(end) {
		return 0
	}
	endParts := make([]*frame.Column, len(end))
	for i, v := range end {
		endParts[i] = frame.NewNumeric("end", []float64{v})
	}
	n := 0
	for r := range x.NumRows() {
		if complete(parts, r) && compareRows(parts, r, endParts, 0) > 0 {
			n++
		}
	}
	return n
}

// timeParts returns the numeric columns of the parts of timeColumn
// ("Year,Round" has two), or false when one is missing or text.
func timeParts(x *frame.Frame, timeColumn string) ([]*frame.Column, bool) {
	var cols []*frame.Column
	for part := range strings.SplitSeq(timeColumn, ",") {
		c, ok := x.Lookup(strings.TrimSpace(part))
		if !ok || c.Kind == frame.Categorical {
			return nil, false
		}
		cols = append(cols, c)
	}
	return cols, len(cols) > 0
}

// complete reports whether row r has every part of its time.
func complete(parts []*frame.Column, r int) bool {
	for _, c := range parts {
		if math.IsNaN(c.Num[r]) {
			return false
		}
	}
	return true
}

// compareRows orders row a of parts a and row b of parts b by their
// times, lexicographically over the parts as training orders them.
func compareRows(pa []*frame.Column, a int, pb []*frame.Column, b int) int {
	for i := range pa {
		switch va, vb := pa[i].Num[a], pb[i].Num[b]; {
		case va < vb:
			return -1
		case va > vb:
			return 1
		}
	}
	return 0
}
