package report

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
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

// TestSegmentModelsSection checks that a segment_by run's report shows
// the per-segment models against the global model and says which model
// the test-row sections describe; credit_data by Home had none of it, so
// the leaderboard's test AUC 0.8163 (global) contradicted the ROC
// table's 0.7877 (routed). A routed model worse than the global one is
// called out.
func TestSegmentModelsSection(t *testing.T) {
	d := classData(2, 400)
	d.Metric, d.Best = "auc", "ensemble:selection"
	// credit_data by Home (train --json of the run above).
	d.SegmentModels = &SegmentModels{Column: "Home", Model: "logistic", MinRows: 50, Trained: 1, Fallback: 1,
		Global: eval.Metrics{"auc": 0.8163}, Routed: eval.Metrics{"auc": 0.7877},
		Segments: []SegmentModel{
			{Segment: "ignore", TrainRows: 16, TestRows: 4, Note: "16 training rows < min_segment_rows 50: global model", Global: eval.Metrics{"auc": 1}, Routed: eval.Metrics{"auc": 1}},
			{Segment: "owner", TrainRows: 1683, TestRows: 424, OwnModel: true, Global: eval.Metrics{"auc": 0.8128}, Routed: eval.Metrics{"auc": 0.7588}},
		}}
	secs := sections(d)
	s := sectionByID(secs, "segments")
	if s.Missing != "" || len(s.Tables) == 0 {
		t.Fatalf("segments section: missing %q, %d tables", s.Missing, len(s.Tables))
	}
	tb := s.Tables[0]
	want := [][]string{
		{"ignore", "16", "4", "global", "1", "1"},
		{"owner", "1683", "424", "own", "0.8128", "0.7588"},
		{"all test rows", "", "", "", "0.8163", "0.7877"},
	}
	if len(tb.Rows) != len(want) {
		t.Fatalf("%d rows; want %d", len(tb.Rows), len(want))
	}
	for i, w := range want {
		for j, v := range w {
			if got := tb.Rows[i][j].Text; got != v {
				t.Errorf("row %d column %s: %q; want %q", i, tb.Head[j], got, v)
			}
		}
	}
	notes := strings.Join(s.Notes, " ")
	for _, w := range []string{"describe the routed model", "worse than the global one (auc 0.7877 against 0.8163)"} {
		if !strings.Contains(notes, w) {
			t.Errorf("notes %q do not say %q", notes, w)
		}
	}
	var saved string
	for _, r := range sectionByID(secs, "summary").Tables[0].Rows {
		if r[0].Text == "saved model" {
			saved = r[1].Text
		}
	}
	if !strings.Contains(saved, "routed by Home") {
		t.Errorf("run summary's saved model %q; want it routed by Home", saved)
	}
}

// TestProbabilityAxesNameTheClass checks that a binary task's calibration
// and partial dependence axes name the positive class (credit_data's
// "bad"), and a regression's PDP axis the target: they read "observed
// share of class 1" and "prediction".
func TestProbabilityAxesNameTheClass(t *testing.T) {
	pdp := []PDP{{Feature: "Amount", Grid: []float64{500, 1000, 2000}, Average: []float64{0.2, 0.3, 0.5}}}
	bin := classData(2, 200)
	bin.Classes, bin.PDP = []string{"good", "bad"}, pdp
	bin.Calibration = &eval.CalibrationResult{Bins: []eval.CalibrationBin{{Lo: 0, Hi: 0.5, Rows: 100, MeanProb: 0.2, Observed: 0.25}, {Lo: 0.5, Hi: 1, Rows: 100, MeanProb: 0.7, Observed: 0.65}}}
	reg := fullData(t)
	reg.Target = "Sale_Price"
	tests := []struct {
		d        *Data
		section  string
		wantAxis string
	}{
		{bin, "calibration", "observed share of bad"},
		{bin, "pdp", "probability of bad"},
		{reg, "pdp", "predicted Sale_Price"},
	}
	for _, tt := range tests {
		s := sectionByID(sections(tt.d), tt.section)
		if s == nil || len(s.Charts) == 0 {
			t.Fatalf("%s %s: no chart", tt.d.Task, tt.section)
		}
		if got := s.Charts[0].chart.YLabel; got != tt.wantAxis {
			t.Errorf("%s %s: y axis %q; want %q", tt.d.Task, tt.section, got, tt.wantAxis)
		}
	}
}

// TestBarsClearOfLegendAndFrame checks, on the SVG's scale, that the
// tallest bar stays below the top-right legend and the most negative one
// above the frame's bottom: ames' residuals by Gr_Liv_Area had MAE bars
// under the legend and a mean residual bar on the frame.
func TestBarsClearOfLegendAndFrame(t *testing.T) {
	// Mean residual and MAE of four quantile bins (ames-like figures).
	mean := []float64{-2400, -1900, 1600, -4300}
	mae := []float64{10800, 9700, 13900, 24100}
	c := &chart{Title: "Residuals by Gr_Liv_Area (quantile bins)", YLabel: "residual", Categories: []string{"a", "b", "c", "d"},
		Series: []series{{Name: "mean residual", Kind: bars, Y: mean}, {Name: "MAE", Kind: bars, Y: mae}}}
	v := newSVGView(c)
	legendBottom := v.top + 6 + 15*float64(c.named())
	if top := v.vy(slices.Max(mae)); top <= legendBottom {
		t.Errorf("tallest bar's top at y %.1f; the legend reaches down to %.1f", top, legendBottom)
	}
	if low := v.vy(slices.Min(mean)); low >= v.bottom {
		t.Errorf("most negative bar ends at y %.1f, on the frame's bottom %.1f", low, v.bottom)
	}
}

// TestResidualBinsOfOneValue checks that a quantile bin holding a single
// value of a discrete feature is labelled with it: gen sales' discount
// bins read "0–0", "0.05–0.05".
func TestResidualBinsOfOneValue(t *testing.T) {
	d := fullData(t)
	d.ResidualBins = []FeatureResiduals{{Feature: "discount", Bins: []eval.ResidualGroup{
		{Lo: 0, Hi: 0, Rows: 10}, {Lo: 0.05, Hi: 0.05, Rows: 10}, {Lo: 0.1, Hi: 0.4, Rows: 10},
	}}}
	s := sectionByID(sections(d), "errors")
	got := s.Charts[0].chart.Categories
	if want := []string{"0", "0.05", "0.1–0.4"}; !slices.Equal(got, want) {
		t.Errorf("bin labels %q; want %q", got, want)
	}
}

// TestSmallTestSetNote checks that the leaderboard warns when the test
// part is tiny (a 30-row credit_data sample kept 6 test rows, AUC 0.625
// against CV 0.867, without a word) and stays quiet otherwise.
func TestSmallTestSetNote(t *testing.T) {
	for _, tt := range []struct {
		rows int
		want bool
	}{{6, true}, {99, true}, {100, false}, {891, false}} {
		d := fullData(t)
		d.TestRows = tt.rows
		notes := strings.Join(sectionByID(sections(d), "leaderboard").Notes, " ")
		if got := strings.Contains(notes, fmt.Sprintf("Only %d test rows", tt.rows)); got != tt.want {
			t.Errorf("%d test rows: small-test note %v; want %v (notes %q)", tt.rows, got, tt.want, notes)
		}
	}
}

// TestSHAPAxesNameTheOutput checks that the SHAP plots say what the
// values add up to (credit_data's gbdt: log-odds of bad), where they read
// "impact on the prediction" for probabilities and log-odds alike.
func TestSHAPAxesNameTheOutput(t *testing.T) {
	d := fullData(t)
	d.SHAP.Output = "log-odds of bad"
	s := shapSection(d)
	if got := s.Charts[0].chart.XLabel; !strings.Contains(got, "log-odds of bad") {
		t.Errorf("beeswarm x axis %q does not name the log-odds of bad", got)
	}
	if got := s.Charts[1].chart.YLabel; !strings.Contains(got, "log-odds of bad") {
		t.Errorf("dependence y axis %q does not name the log-odds of bad", got)
	}
	if !strings.Contains(s.Notes[0], "add up") {
		t.Errorf("note %q does not say what the values add up to", s.Notes[0])
	}
}

// TestPDPOfDates checks that a partial dependence plot over a datetime
// column labels its x axis with dates: txhousing's date read 1.35e+09.
func TestPDPOfDates(t *testing.T) {
	d := fullData(t)
	// 2012-09-01 to 2015-07-01 in Unix seconds.
	d.PDP = []PDP{{Feature: "date", Datetime: true, Grid: []float64{1346457600, 1388534400, 1435708800}, Average: []float64{150e3, 155e3, 160e3}}}
	s := sectionByID(sections(d), "pdp")
	svg := s.Charts[0].chart.svg()
	ticks := regexp.MustCompile(`class="tx">([^<]*)<`).FindAllStringSubmatch(svg, -1)
	if len(ticks) == 0 {
		t.Fatal("no x ticks")
	}
	date := regexp.MustCompile(`^20(12|13|14|15)-\d\d-\d\d$`)
	for _, m := range ticks {
		if !date.MatchString(m[1]) {
			t.Errorf("x tick %q is not a date of 2012 to 2015", m[1])
		}
	}
}

// TestRotatedLabelsFit checks that rotated bar labels of the longest
// length drawn (14 characters) end inside the chart and above the x axis
// title: ames' leaderboard lost "ensemble:selection" below the frame and
// the residual histogram's bin labels ran over "residual".
func TestRotatedLabelsFit(t *testing.T) {
	var cats []string
	for i := range 12 {
		cats = append(cats, fmt.Sprintf("ensemble:sel%02d", i))
	}
	c := &chart{Title: "Leaderboard", XLabel: "model", YLabel: "r2", Categories: cats,
		Series: []series{{Name: "cv", Kind: bars, Y: make([]float64, 12)}}}
	svg := c.svg()
	m := regexp.MustCompile(`<text x="[0-9.]+" y="([0-9.]+)" class="tr"`).FindStringSubmatch(svg)
	if m == nil {
		t.Fatal("no rotated labels")
	}
	y0, _ := strconv.ParseFloat(m[1], 64)
	// 11 px sans-serif: at most 7 px a character, dropping by sin 35°.
	end := y0 + 14*7*math.Sin(35*math.Pi/180)
	if titleTop := float64(svgH-10) - 11; end > titleTop {
		t.Errorf("rotated labels end at y %.0f, below the x axis title's top %.0f (chart height %d)", end, titleTop, svgH)
	}
}

// TestValidationCurveLogAxis checks that a parameter swept over decades
// is plotted on a log10 axis (credit_data's logistic c, 0.01 to 100, sat
// against 0 but for its last point) and a linear sweep stays linear.
func TestValidationCurveLogAxis(t *testing.T) {
	point := func(v, tr, va float64) eval.CurvePoint {
		return eval.CurvePoint{Value: v, Train: eval.Metrics{"auc": tr}, Valid: eval.Metrics{"auc": va}}
	}
	tests := []struct {
		vc     *ValidationCurve
		xLabel string
		x      []float64
	}{
		{&ValidationCurve{Family: "logistic", Param: "c", Metric: "auc", Points: []eval.CurvePoint{
			point(0.01, 0.838, 0.845), point(0.1, 0.843, 0.849), point(1, 0.844, 0.85), point(10, 0.844, 0.85), point(100, 0.844, 0.85)}},
			"log10 c", []float64{-2, -1, 0, 1, 2}},
		{&ValidationCurve{Family: "tree", Param: "max_depth", Metric: "auc", Points: []eval.CurvePoint{
			point(1, 0.6, 0.6), point(4, 0.8, 0.75), point(12, 1, 0.65)}},
			"max_depth", []float64{1, 4, 12}},
	}
	for _, tt := range tests {
		d := fullData(t)
		d.ValidationCurve = tt.vc
		var c *chart
		for _, rc := range sectionByID(sections(d), "curves").Charts {
			if rc.chart.File == "validation_curve" {
				c = rc.chart
			}
		}
		if c == nil {
			t.Fatalf("%s: no validation curve", tt.vc.Param)
		}
		if c.XLabel != tt.xLabel {
			t.Errorf("%s: x axis %q; want %q", tt.vc.Param, c.XLabel, tt.xLabel)
		}
		for i, want := range tt.x {
			if got := c.Series[0].X[i]; math.Abs(got-want) > 1e-12 {
				t.Errorf("%s: x[%d] = %v; want %v", tt.vc.Param, i, got, want)
			}
		}
	}
}

// TestHistogramRoundBins checks that histogram bins have a round width
// and round centres: ames' Sale_Price (12,789 to 755,000 in 30 bins) was
// labelled 25.16k, 74.64k, 124.1k, edges from the data's minimum.
func TestHistogramRoundBins(t *testing.T) {
	y := []float64{12789, 34900, 105000, 160000, 163000, 215000, 339000, 755000}
	cats, counts := histogram(y, 30)
	if len(cats) > 31 {
		t.Fatalf("%d bins; want at most 31", len(cats))
	}
	// 755,000 - 12,789 over 30 is 24,740: bins 25k wide from 0.
	if cats[0] != "12.5k" || cats[1] != "37.5k" {
		t.Errorf("first labels %q %q; want 12.5k 37.5k", cats[0], cats[1])
	}
	total := 0.0
	for _, c := range counts {
		total += c
	}
	if total != float64(len(y)) || counts[len(counts)-1] != 1 {
		t.Errorf("counts %v: %v rows, last bin %v; want %d rows, the maximum in the last bin", counts, total, counts[len(counts)-1], len(y))
	}
}
