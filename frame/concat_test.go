package frame

import (
	"math"
	"slices"
	"testing"
)

// TestConcat: rows follow each other, each categorical row keeps its
// label (codes remapped into one level list), missing values stay
// missing, and a column missing or of another kind is an error.
func TestConcat(t *testing.T) {
	a, _ := New(NewNumeric("x", []float64{1, math.NaN()}), NewCategoricalFromStrings("c", []string{"p", "q"}))
	b, _ := New(NewCategoricalFromStrings("c", []string{"q", "", "r"}), NewNumeric("x", []float64{3, 4, 5}))
	f, err := Concat(a, b)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := f.Lookup("x")
	c, _ := f.Lookup("c")
	if f.NumRows() != 5 || x.Num[0] != 1 || !math.IsNaN(x.Num[1]) || x.Num[4] != 5 {
		t.Errorf("x = %v", x.Num)
	}
	var labels []string
	for i := range c.Len() {
		labels = append(labels, c.Label(i))
	}
	if !slices.Equal(labels, []string{"p", "q", "q", "", "r"}) || !slices.Equal(c.Levels[:2], []string{"p", "q"}) {
		t.Errorf("labels %q, levels %q", labels, c.Levels)
	}
	bad, _ := New(NewNumeric("x", []float64{1}), NewNumeric("c", []float64{2}))
	if _, err := Concat(a, bad); err == nil {
		t.Error("a column of another kind was concatenated")
	}
	short, _ := New(NewNumeric("x", []float64{1}))
	if _, err := Concat(a, short); err == nil {
		t.Error("a missing column was concatenated")
	}
}
