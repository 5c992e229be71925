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

// TestClassIndexTextClasses: a model trained on a text target whose
// labels include "01" and "1" (two classes) reads new labels as text,
// whatever the batch holds. A batch of digits alone used to read as
// numbers, so "01" became class "1"; a model trained on numbers still
// reads "1.0" as its class "1".
func TestClassIndexTextClasses(t *testing.T) {
	for _, tc := range []struct {
		classes []string
		want    []int // of labels 01, 1, 1.0
	}{
		{[]string{"01", "1", "x"}, []int{0, 1, -1}},
		{[]string{"1", "2"}, []int{0, 0, 0}},
	} {
		p := &Predictor{Target: Target{Name: "y", Task: model.Multiclass, Classes: tc.classes}}
		x, err := frame.ReadCSVBytes([]byte("y\n01\n1\n1.0\n"), frame.ReadOptions{Schema: p.InputSchema(), SchemaOptional: true})
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x.Lookup("y")
		for i, w := range tc.want {
			if k, label := p.Target.ClassIndex(c, i); k != w {
				t.Errorf("classes %q: ClassIndex(row %d) = %d (label %q); want %d", tc.classes, i, k, label, w)
			}
		}
	}
}

// TestSameClass: an actual names a class by ClassIndex's rule.
func TestSameClass(t *testing.T) {
	for _, tc := range []struct {
		classes  []string
		label, a string
		want     bool
	}{
		{[]string{"0", "1"}, "1", "1.0", true},
		{[]string{"0", "1"}, "1", "01", true},
		{[]string{"1000", "2"}, "1000", "1e3", true},
		{[]string{"1e+06", "2"}, "1e+06", "1000000", true}, // a model saved with %g labels
		{[]string{"01", "1", "x"}, "1", "01", false},
		{[]string{"1e3", "1000"}, "1000", "1e3", false},
		{[]string{"1", "x"}, "1", "1.0", false}, // text labels: "1.0" is a label of its own
		{[]string{"no", "yes"}, "yes", "yes", true},
	} {
		if got := SameClass(tc.classes, tc.label, tc.a); got != tc.want {
			t.Errorf("SameClass(%q, %q, %q) = %v; want %v", tc.classes, tc.label, tc.a, got, tc.want)
		}
	}
}
