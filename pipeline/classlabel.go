package pipeline

import (
	"slices"
	"strconv"

	"github.com/tabforge/tabforge/frame"
)

// ClassIndex returns the index among t.Classes of the label of row i of
// c, a target column, and that label; the index is -1 for a label the
// model never learnt. A numeric column's value is labelled by
// frame.NumberLabel, or in the %g form models saved before it have ("1e+06").
func (t Target) ClassIndex(c *frame.Column, i int) (int, string) {
	if c.Kind == frame.Categorical {
		label := c.Label(i)
		return slices.Index(t.Classes, label), label
	}
	label := frame.NumberLabel(c.Num[i])
	k := slices.Index(t.Classes, label)
	if k < 0 {
		k = slices.Index(t.Classes, strconv.FormatFloat(c.Num[i], 'g', -1, 64))
	}
	return k, label
}
