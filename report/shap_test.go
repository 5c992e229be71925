package report

import (
	"math"
	"strings"
	"testing"
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
