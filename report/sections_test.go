package report

import (
	"math"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/eval"
)

// TestSHAPDependenceSkipsCategorical checks that a categorical feature,
// whose SHAP feature values are all NaN, gets no dependence plot (it
// would be an empty frame, as credit_data's Records was) and that the
// next numeric features take the three slots.
func TestSHAPDependenceSkipsCategorical(t *testing.T) {
	d := fullData(t)
	sh := d.SHAP
	// "home" is the most important feature and categorical.
	sh.Features = append([]string{"home"}, sh.Features...)
	for i := range sh.Values {
		sh.Values[i] = append([]float64{100 * float64(i%2*2-1)}, sh.Values[i]...)
		sh.FeatureValues[i] = append([]float64{math.NaN()}, sh.FeatureValues[i]...)
	}
	s := shapSection(d)
	var deps []string
	for _, c := range s.Charts {
		if strings.HasPrefix(c.chart.Title, "SHAP dependence: ") {
			deps = append(deps, strings.TrimPrefix(c.chart.Title, "SHAP dependence: "))
			if n := len(c.chart.Series[0].X); n == 0 {
				t.Errorf("%s: empty dependence plot", c.chart.Title)
			}
		}
	}
	if want := []string{"x0", "x1", "x2"}; strings.Join(deps, ",") != strings.Join(want, ",") {
		t.Errorf("dependence plots for %v; want %v", deps, want)
	}
	if !strings.Contains(strings.Join(s.Notes, " "), "No dependence plot for home") {
		t.Errorf("notes %q do not say why home has no dependence plot", s.Notes)
	}
}

// TestResidualBinsOfDates checks that residual bins of a datetime column
// are labelled with their first dates, not with Unix seconds in millions
// (txhousing's date read "1346M–1357M"), and that the flag survives the
// copy written to report.json.
func TestResidualBinsOfDates(t *testing.T) {
	d := fullData(t)
	// Seconds of 2012-09-01, 2012-12-01 and 2013-03-01 (UTC).
	d.ResidualBins = []FeatureResiduals{{Feature: "date", Datetime: true, Bins: []eval.ResidualGroup{
		{Lo: 1346457600, Hi: 1354320000, Rows: 10},
		{Lo: 1354320000, Hi: 1362096000, Rows: 10},
	}}}
	s := sectionByID(sections(sanitized(d)), "errors")
	var got []string
	for _, c := range s.Charts {
		if c.chart.Title == "Residuals by date (quantile bins from the date shown)" {
			got = c.chart.Categories
		}
	}
	// Rotated bar labels are cut at 14 characters: the bins' first dates.
	want := []string{"2012-09-01", "2012-12-01"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("bin labels %q; want %q", got, want)
	}
}
