package report

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// penguinPDP is a multiclass partial dependence over bill length: the
// probabilities of three species, summing to 1 at each grid point.
func penguinPDP() PDP {
	return PDP{Feature: "bill_length_mm", Grid: []float64{35, 40, 45, 50, 55}, Classes: []ClassPD{
		{Class: "Adelie", Average: []float64{0.8, 0.6, 0.3, 0.1, 0.05}},
		{Class: "Chinstrap", Average: []float64{0.05, 0.1, 0.3, 0.5, 0.6}},
		{Class: "Gentoo", Average: []float64{0.15, 0.3, 0.4, 0.4, 0.35}},
	}}
}

// TestMulticlassPDP checks that a multiclass model's partial dependence
// chart draws a named line per class, each class in its own colour from
// chart to chart, on a probability axis, that the note says what the
// lines are and how many classes are left out, and that the page renders
// the chart in headless Chromium.
func TestMulticlassPDP(t *testing.T) {
	three := classData(3, 120)
	three.Classes = []string{"Adelie", "Chinstrap", "Gentoo"}
	three.PDP = []PDP{penguinPDP()}

	eight := classData(3, 120)
	eight.Classes = []string{"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"}
	p := PDP{Feature: "x", Grid: []float64{0, 1}, OtherClasses: 2}
	for _, k := range []int{1, 2, 3, 5, 6, 7} { // the six the feature moves most, in class order
		p.Classes = append(p.Classes, ClassPD{Class: eight.Classes[k], Average: []float64{0.1, 0.15}})
	}
	eight.PDP = []PDP{p}

	for _, tc := range []struct {
		d        *Data
		colours  []int // palette index of each line
		noteHas  string
		noteLack string
	}{
		{three, []int{0, 1, 2}, "One line per class", "classes the feature moves most"},
		{eight, []int{1, 2, 3, 5, 6, 7}, "the other 2", "Thin lines"},
	} {
		s := sectionByID(sections(tc.d), "pdp")
		if s == nil || len(s.Charts) != 1 {
			t.Fatalf("%d classes: pdp section %+v; want one chart", len(tc.d.Classes), s)
		}
		c := s.Charts[0].chart
		if c.YLabel != "predicted probability" {
			t.Errorf("%d classes: y axis %q; want predicted probability", len(tc.d.Classes), c.YLabel)
		}
		var names []string
		for i, sr := range c.Series {
			names = append(names, sr.Name)
			if sr.Color != palette[tc.colours[i]] {
				t.Errorf("%d classes: line %s in %v; want palette[%d]", len(tc.d.Classes), sr.Name, sr.Color, tc.colours[i])
			}
		}
		var want []string
		for _, cp := range tc.d.PDP[0].Classes {
			want = append(want, cp.Class)
		}
		if !slices.Equal(names, want) {
			t.Errorf("%d classes: lines %q; want %q", len(tc.d.Classes), names, want)
		}
		note := strings.Join(s.Notes, " ")
		if !strings.Contains(note, tc.noteHas) || strings.Contains(note, tc.noteLack) {
			t.Errorf("%d classes: note %q; want %q and not %q", len(tc.d.Classes), note, tc.noteHas, tc.noteLack)
		}
	}

	dom, _ := renderInChromium(t, three)
	sec := regexp.MustCompile(`(?s)<section id="pdp">.*?</section>`).FindString(dom)
	if !strings.Contains(sec, "<svg") {
		t.Fatalf("the rendered pdp section has no chart: %.300s", sec)
	}
	for _, class := range three.Classes {
		if !strings.Contains(sec, fmt.Sprintf(">%s<", class)) {
			t.Errorf("the rendered pdp chart does not name class %s", class)
		}
	}
}
