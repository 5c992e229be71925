package pipeline

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
)

// targetCopies returns the feature columns of t that reproduce its
// target on every row: a regression target's values exactly, or a
// class's label one for one (the same labels, or a recoding such as
// 1/0 for yes/no). Such a column is known only with the target, as a
// copy written into the table or an outcome recorded with it; a model
// reads the answer from it, and its CV and test scores (R² 1, AUC 1)
// say nothing about new rows, where the column is not known yet.
func targetCopies(t *TrainingTable) []string {
	var out []string
	for _, col := range t.X.Columns() {
		if copiesTarget(col, t) {
			out = append(out, col.Name)
		}
	}
	return out
}

// copiesTarget reports whether col copies t's target. A column with a
// missing value copies nothing: the model must guess there.
func copiesTarget(col *frame.Column, t *TrainingTable) bool {
	n := col.Len()
	if n < 2 || n != len(t.Y) {
		return false
	}
	// key is the row's value: a categorical column's code, else its number.
	key := func(i int) float64 { return col.Num[i] }
	if col.Kind == frame.Categorical {
		key = func(i int) float64 { return float64(col.Codes[i]) }
	}
	toClass, toValue := map[float64]float64{}, map[float64]float64{}
	for i := range n {
		if col.IsMissing(i) {
			return false
		}
		v, c := key(i), t.Y[i]
		if t.Task == model.Regression {
			if col.Kind != frame.Numeric || v != c {
				return false
			}
			continue
		}
		if k, ok := toClass[v]; ok && k != c {
			return false
		}
		if m, ok := toValue[c]; ok && m != v {
			return false
		}
		toClass[v], toValue[c] = c, v
	}
	return true
}

// targetCopyWarning is the warning for a column targetCopies names.
func targetCopyWarning(col, target string) string {
	return fmt.Sprintf("column %q reproduces the target (%s) on every row: models read the answer from it, so their CV and test "+
		"scores say nothing about new rows, where it is not known yet; if it is recorded with or after the target, leave it out with --drop %s",
		col, target, col)
}

// minRowIDRows is the fewest rows rowIDColumns judges: on a handful of
// rows any distinct whole numbers look like a numbering.
const minRowIDRows = 20

// rowIDColumns returns the numeric columns of x numbered like rows: a
// different whole number in every row, none missing, within a range at
// most twice the row count (rows left out for a missing target leave
// gaps). Such a column (an "id", or the row numbers R's write.csv adds)
// is numeric, so IDLikeColumns (categorical columns) misses it, yet what
// a model learns from it is the order the file was written in, which
// does not carry over to new rows; trees split on it as on any number.
func rowIDColumns(x *frame.Frame) []string {
	n := x.NumRows()
	if n < minRowIDRows {
		return nil
	}
	var out []string
	for _, col := range x.Columns() {
		if col.Kind == frame.Numeric && numberedLikeRows(col.Num) {
			out = append(out, col.Name)
		}
	}
	return out
}

// numberedLikeRows reports whether v holds distinct whole numbers, none
// missing, spanning at most 2·len(v) integers.
func numberedLikeRows(v []float64) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range v {
		if math.IsNaN(x) || x != math.Trunc(x) || math.IsInf(x, 0) {
			return false
		}
		lo, hi = min(lo, x), max(hi, x)
	}
	if hi-lo+1 > 2*float64(len(v)) {
		return false
	}
	seen := make(map[float64]struct{}, len(v))
	for _, x := range v {
		if _, dup := seen[x]; dup {
			return false
		}
		seen[x] = struct{}{}
	}
	return true
}

// rowIDWarning is the warning for a column rowIDColumns names.
func rowIDWarning(col string) string {
	return fmt.Sprintf("column %q holds a different whole number in every row, numbered like the rows (a row id): what a model learns "+
		"from it does not carry over to new rows; leave it out with --drop %s (if it is a time, pass it as --time-column)", col, col)
}

// constantColumns returns the columns of x (two rows or more) that hold
// one value in every row, or are missing in every row. Such a column
// tells the rows apart in no way, so no model learns anything from it;
// it is kept (harmless: it scales to 0, trees never split on it), but a
// user who expected it to matter should know (a join that filled it with
// one value, a filter that left one category).
func constantColumns(x *frame.Frame) []string {
	if x.NumRows() < 2 {
		return nil
	}
	var out []string
	for _, c := range x.Columns() {
		if constant(c) {
			out = append(out, c.Name)
		}
	}
	return out
}

// constant reports whether every row of c equals the first, counting
// missing as a value: all one value, or all missing.
func constant(c *frame.Column) bool {
	if c.Kind == frame.Categorical {
		for _, v := range c.Codes[1:] {
			if v != c.Codes[0] {
				return false
			}
		}
		return true
	}
	first := c.Num[0]
	for _, v := range c.Num[1:] {
		if v != first && !(math.IsNaN(v) && math.IsNaN(first)) {
			return false
		}
	}
	return true
}

// constantWarning is the warning for a column constantColumns names.
func constantWarning(x *frame.Frame, name string) string {
	c, _ := x.Lookup(name)
	if c.IsMissing(0) {
		return fmt.Sprintf("column %q is missing in every row: no model can learn anything from it, so it is ignored in effect; "+
			"leave it out with --drop %s", name, name)
	}
	var v string
	switch c.Kind {
	case frame.Categorical:
		v = c.Label(0)
	case frame.Datetime:
		v = time.Unix(int64(c.Num[0]), 0).UTC().Format(time.RFC3339)
	default:
		v = strconv.FormatFloat(c.Num[0], 'g', -1, 64)
	}
	return fmt.Sprintf("column %q holds the same value (%s) in every row: no model can learn anything from it, so it is ignored in effect; "+
		"leave it out with --drop %s", name, v, name)
}

// maxCodedClasses is the most distinct values codedClasses lists: class
// codes are few, while counts and scores (aer_affairs' 0..12, 6 values)
// may be few as well, so the warning only asks.
const maxCodedClasses = 10

// codedClasses returns the distinct values of a regression target y
// (NaN = missing), sorted, when they are at most maxCodedClasses whole
// numbers: class codes such as mlbench's Glass types 1, 2, 3, 5, 6, 7,
// which auto reads as a number to regress on.
func codedClasses(y []float64) []float64 {
	var vals []float64
	for _, v := range y {
		if math.IsNaN(v) || slices.Contains(vals, v) {
			continue
		}
		if v != math.Trunc(v) || len(vals) == maxCodedClasses {
			return nil
		}
		vals = append(vals, v)
	}
	slices.Sort(vals)
	return vals
}

// codedClassesWarning is the warning for a target codedClasses lists.
func codedClassesWarning(target string, vals []float64) string {
	s := make([]string, len(vals))
	for i, v := range vals {
		s[i] = frame.NumberLabel(v)
	}
	return fmt.Sprintf("target %q holds only %d distinct whole numbers (%s) and is learned as a quantity (regression); "+
		"if they are class labels, pass --task multiclass", target, len(vals), strings.Join(s, ", "))
}
