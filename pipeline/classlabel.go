package pipeline

import (
	"slices"
	"strconv"

	"github.com/tabforge/tabforge/frame"
)

// ClassIndex returns the index among t.Classes of the label of row i of
// c, a target column, and that label; the index is -1 for a label the
// model never learnt. A numeric column's value is labelled by
// frame.NumberLabel, or in the %g form models saved before it have
// ("1e+06"). A model whose classes are not NumberCoded has c read as
// text (ReadSchema pins it), so "01" is not taken for class "1".
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

// NumberCoded reports whether classes are the labels of a numeric target
// column, as training labels it: each is frame.NumberLabel of its number,
// or the %g form models saved before it have. A categorical target
// column's classes are its texts, and one such as "01", "1.0", "1e3" or
// "yes" says the column was read as text, where "01" and "1" are two
// classes.
func NumberCoded(classes []string) bool {
	for _, c := range classes {
		v, ok := frame.ParseNumber(c)
		if !ok || (c != frame.NumberLabel(v) && c != strconv.FormatFloat(v, 'g', -1, 64)) {
			return false
		}
	}
	return len(classes) > 0
}

// SameClass reports whether the text a, an actual outcome, names class
// label of a model with classes, by ClassIndex's rule: the same text,
// or, when the classes are NumberCoded, the same number ("1.0", as
// pandas writes a float column, is class "1").
func SameClass(classes []string, label, a string) bool {
	if a == label {
		return true
	}
	if !NumberCoded(classes) {
		return false
	}
	v, ok := frame.ParseNumber(a)
	return ok && (label == frame.NumberLabel(v) || label == strconv.FormatFloat(v, 'g', -1, 64))
}
