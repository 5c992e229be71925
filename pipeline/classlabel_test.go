package pipeline

import (
	"testing"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
)

func TestNumberClass(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0, "0"},
		{1, "1"},
		{-3, "-3"},
		{999999, "999999"},
		{1e6, "1000000"}, // %g: 1e+06
		{2000001, "2000001"},
		{-12345678, "-12345678"},
		{2.5, "2.5"},
		{1e21, "1e+21"}, // digits would run long
		{1.5e-7, "1.5e-07"},
	} {
		if got := NumberClass(c.v); got != c.want {
			t.Errorf("NumberClass(%v) = %q; want %q", c.v, got, c.want)
		}
	}
}

// TestClassIndexSavedLabels: a model saved when numeric classes were
// labelled in %g form still finds its classes.
func TestClassIndexSavedLabels(t *testing.T) {
	c := frame.NewNumeric("y", []float64{1e6, 2, 7})
	for _, tc := range []struct {
		classes []string
		want    []int
	}{
		{[]string{"1000000", "2"}, []int{0, 1, -1}},
		{[]string{"1e+06", "2"}, []int{0, 1, -1}},
	} {
		tg := Target{Name: "y", Task: model.Multiclass, Classes: tc.classes}
		for i, w := range tc.want {
			if k, label := tg.ClassIndex(c, i); k != w || label != NumberClass(c.Num[i]) {
				t.Errorf("classes %q: ClassIndex(row %d) = %d, %q; want %d, %q", tc.classes, i, k, label, w, NumberClass(c.Num[i]))
			}
		}
	}
}
