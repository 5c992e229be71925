package pipeline

import (
	"math"
	"slices"
	"strconv"

	"github.com/tabforge/tabforge/frame"
)

// NumberClass is the class label of v, a value of a numeric target
// column: a whole number is written in digits, without an exponent (class
// code 1000000 is "1000000", as the data has it, not Go's shortest %g
// "1e+06"), up to 1e21; any other value in its shortest %g form ("2.5").
func NumberClass(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e21 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// ClassIndex returns the index among t.Classes of the label of row i of
// c, a target column, and that label; the index is -1 for a label the
// model never learnt. A numeric column's value is labelled by
// NumberClass, or in the %g form models saved before it have ("1e+06").
func (t Target) ClassIndex(c *frame.Column, i int) (int, string) {
	if c.Kind == frame.Categorical {
		label := c.Label(i)
		return slices.Index(t.Classes, label), label
	}
	label := NumberClass(c.Num[i])
	k := slices.Index(t.Classes, label)
	if k < 0 {
		k = slices.Index(t.Classes, strconv.FormatFloat(c.Num[i], 'g', -1, 64))
	}
	return k, label
}
