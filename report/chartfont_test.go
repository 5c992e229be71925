package report

import (
	"regexp"
	"strings"
	"testing"

	"gonum.org/v1/plot/font"
)

// TestChartFontsMatch checks that PNG and SVG charts name one typeface:
// every text of every PNG chart of a full report is in chartFont, which
// gonum/plot's font cache holds (it falls back to its default, Liberation
// Serif, for a font it lacks), and every SVG chart text rule of the page
// names that font first. The PNGs were in Liberation Serif, the SVGs in
// the browser's sans-serif.
func TestChartFontsMatch(t *testing.T) {
	if !font.DefaultCache.Has(chartFont) {
		t.Fatalf("gonum/plot's font cache lacks %+v", chartFont)
	}
	n := 0
	for _, s := range sections(fullData(t)) {
		for _, fc := range s.Charts {
			p, err := fc.chart.plot()
			if err != nil {
				t.Fatal(err)
			}
			texts := map[string]font.Font{"title": p.Title.TextStyle.Font, "legend": p.Legend.TextStyle.Font,
				"x label": p.X.Label.TextStyle.Font, "y label": p.Y.Label.TextStyle.Font,
				"x ticks": p.X.Tick.Label.Font, "y ticks": p.Y.Tick.Label.Font}
			for what, f := range texts {
				if f.Typeface != chartFont.Typeface || f.Variant != chartFont.Variant {
					t.Errorf("PNG %q: %s in %s %s; want %s %s", fc.chart.Title, what, f.Typeface, f.Variant, chartFont.Typeface, chartFont.Variant)
				}
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no charts")
	}
	family := `"` + string(chartFont.Typeface) + " " + string(chartFont.Variant) + `"`
	rules := regexp.MustCompile(`svg \.[a-z]+ \{ font: ([^;]*);`).FindAllStringSubmatch(pageTemplate, -1)
	if len(rules) == 0 {
		t.Fatal("the page has no SVG text rules")
	}
	for _, r := range rules {
		fields := strings.SplitN(r[1], `"`, 2)
		if len(fields) < 2 || !strings.HasPrefix(`"`+fields[1], family) {
			t.Errorf("SVG text rule %q; want %s first", r[0], family)
		}
	}
}
