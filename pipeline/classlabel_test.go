package pipeline

import (
	"testing"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
)

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
			if k, label := tg.ClassIndex(c, i); k != w || label != frame.NumberLabel(c.Num[i]) {
				t.Errorf("classes %q: ClassIndex(row %d) = %d, %q; want %d, %q", tc.classes, i, k, label, w, frame.NumberLabel(c.Num[i]))
			}
		}
	}
}

// TestPositiveClassNumberForms: on a numeric target, the positive class
// names a number as the data may write it. A config saved when such
// classes were labelled in %g form (positive_class: 1e+06, the only form
// then accepted) keeps training, and so does retrain with it.
func TestPositiveClassNumberForms(t *testing.T) {
	c := frame.NewNumeric("y", []float64{1e6, 2e6, 2e6, 1e6, 2e6})
	for _, positive := range []string{"1000000", "1e+06", "1e6", "1000000.0"} {
		_, classes, err := codeTarget(c, model.Binary, positive)
		if err != nil {
			t.Errorf("codeTarget(positive %q): %v", positive, err)
			continue
		}
		if classes[1] != "1000000" {
			t.Errorf("codeTarget(positive %q) classes = %q; want the positive class 1000000 last", positive, classes)
		}
	}
	if _, _, err := codeTarget(c, model.Binary, "3e6"); err == nil {
		t.Error("codeTarget(positive 3e6): no error for a class the column lacks")
	}
	// A categorical target's labels are text: "1.0" is not "1".
	cat := frame.NewCategoricalFromStrings("y", []string{"1", "x", "1", "x"})
	if _, _, err := codeTarget(cat, model.Binary, "1.0"); err == nil {
		t.Error("codeTarget(categorical, positive 1.0): no error for a label the column lacks")
	}
}
