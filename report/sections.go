package report

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tabforge/tabforge/eval"
)

// sections builds every section of the page from d, in reading order.
func sections(d *Data) []*section {
	return []*section{
		summarySection(d),
		overviewSection(d),
		leaderboardSection(d),
		confusionSection(d),
		rocSection(d),
		thresholdSection(d),
		predictedSection(d),
		residualSection(d),
		errorSection(d),
		calibrationSection(d),
		importanceSection(d),
		shapSection(d),
		pdpSection(d),
		curveSection(d),
		biasVarianceSection(d),
		segmentSection(d),
		rulesSection(d),
		gatesSection(d),
		fallbackSection(d),
		metaSection(d),
		cacheSection(d),
		timingSection(d),
		paramsSection(d),
	}
}

func (d *Data) regression() bool {
	return d.Task == "regression" || d.Task == "" && len(d.Classes) == 0
}

func (d *Data) classes() int {
	if d.regression() {
		return 0
	}
	return max(2, len(d.Classes))
}

func summarySection(d *Data) *section {
	rows := [][]cell{}
	add := func(k, v string) {
		if v != "" {
			rows = append(rows, []cell{txt(k), txt(v)})
		}
	}
	add("run", d.RunID)
	add("created", d.Created)
	add("status", d.Status)
	add("task", d.Task)
	add("target", d.Target)
	if len(d.Classes) > 0 {
		add("classes", classList(d.Classes))
	}
	add("split", d.Split)
	if d.TrainRows+d.TestRows > 0 {
		add("rows", fmt.Sprintf("%d train, %d test", d.TrainRows, d.TestRows))
	}
	add("dataset hash", d.DatasetHash)
	add("ranked by", d.Metric)
	add("best model", d.Best)
	if sm := d.SegmentModels; sm != nil {
		add("saved model", fmt.Sprintf("routed by %s: %d segments with their own %s, %d on %s (see per-segment metrics)", sm.Column, sm.Trained, sm.Model, sm.Fallback, d.Best))
	}
	add("model file", d.ModelPath)
	if d.Best != "" {
		dep := "yes"
		if !d.Deployable {
			dep = "no: a quality gate or business rule failed"
		}
		add("deployable", dep)
	}
	return &section{ID: "summary", Title: "Run", Tables: []table{{Head: []string{"", ""}, Rows: rows}}}
}

func leaderboardSection(d *Data) *section {
	s := &section{ID: "leaderboard", Title: "Leaderboard"}
	if len(d.Leaderboard) == 0 {
		s.Missing = "no candidate models"
		return s
	}
	var all []eval.Metrics
	for _, e := range d.Leaderboard {
		all = append(all, e.Test)
	}
	keys := metricKeys(d.Metric, all...)
	head := []string{"#", "model", "cv " + d.Metric}
	if len(d.RankedFolds) > 0 {
		head = append(head, "cv "+d.Metric+" "+eval.FoldsText(d.RankedFolds))
	}
	for _, k := range keys {
		head = append(head, "test "+metricHead(k))
	}
	head = append(head, "fit s")
	t := table{Head: head}
	var names []string
	var cv, test []float64
	for i, e := range d.Leaderboard {
		row := []cell{intc(i + 1), txt(e.Model)}
		if v, ok := e.CV[d.Metric]; ok {
			c := numc(v)
			if sd, ok := e.CVStd[d.Metric]; ok && finite(sd) {
				c.Text += " ± " + num(sd)
			}
			row = append(row, c)
		} else {
			row = append(row, txt("–"))
		}
		if len(d.RankedFolds) > 0 {
			if e.CVRanked != nil {
				row = append(row, numc(*e.CVRanked))
			} else {
				row = append(row, txt("–"))
			}
		}
		for _, k := range keys {
			row = append(row, metricCell(e.Test, k))
		}
		row = append(row, numc(e.FitSeconds))
		if e.Error != "" {
			row = []cell{intc(i + 1), txt(e.Model), {Text: "failed: " + e.Error, Class: "fail"}}
		} else {
			names = append(names, e.Model)
			cv = append(cv, metricOr(e.CV, d.Metric))
			test = append(test, metricOr(e.Test, d.Metric))
		}
		t.Rows = append(t.Rows, row)
		if u := eval.UndefinedText(e.CVUndefined, e.CVFolds); u != "" && e.Error == "" {
			s.Notes = append(s.Notes, e.Model+": cv "+u+".")
		}
	}
	s.Tables = []table{t}
	c := &chart{File: "leaderboard", Title: "Leaderboard: " + d.Metric + " by model", YLabel: d.Metric, Categories: names}
	if anyFinite(cv) {
		c.Series = append(c.Series, series{Name: "cv", Kind: bars, Y: cv, Color: colorAt(0)})
	}
	c.Series = append(c.Series, series{Name: "test", Kind: bars, Y: test, Color: colorAt(1)})
	s.Charts = charts(c)
	s.Notes = append([]string{"Ranked by the cross-validated metric on the training part; the test part never picks the model."}, s.Notes...)
	if d.TestRows > 0 && d.TestRows < smallTest {
		s.Notes = append(s.Notes, fmt.Sprintf("Only %d test rows: one row more or less moves a test metric a lot, so read the test columns as rough; compare models by their cv figures and the ± spread across folds, and collect more data before trusting either.", d.TestRows))
	}
	return s
}

// smallTest is the number of test rows under which the leaderboard warns
// that test metrics are rough: with 100 rows one row moves accuracy by a
// point, and a 30-row table's 6 test rows gave AUC 0.625 against CV 0.867.
const smallTest = 100

func metricOr(m eval.Metrics, k string) float64 {
	if v, ok := m[k]; ok {
		return v
	}
	return math.NaN()
}

func anyFinite(v []float64) bool {
	for _, x := range v {
		if finite(x) {
			return true
		}
	}
	return false
}

// testOK reports whether d.Test has matching y and predictions for the
// task.
func (d *Data) testOK() bool {
	n := len(d.Test.Y)
	if n == 0 {
		return false
	}
	if k := d.classes(); k > 2 {
		return len(d.Test.Pred) == n*k
	}
	return len(d.Test.Pred) == n
}

func predictedSection(d *Data) *section {
	s := &section{ID: "predicted", Title: "Predicted vs actual"}
	switch {
	case !d.testOK():
		s.Missing = "no test predictions"
	case !d.regression():
		s.Missing = "classification: see calibration"
	default:
		x, y, thinned := everyKth(d.Test.Y, d.Test.Pred, maxScatterPoints)
		c := &chart{File: "predicted_vs_actual", Title: "Predicted vs actual (test rows)", XLabel: "actual " + d.Target, YLabel: "predicted", Diagonal: true,
			Series: []series{{Kind: points, X: x, Y: y, Color: colorAt(0)}}}
		s.Charts = charts(c)
		s.Notes = []string{"Points on the dashed line are exact predictions."}
		if thinned {
			s.Notes = append(s.Notes, drawnNote(len(y), len(d.Test.Y), "the metrics use all of them"))
		}
	}
	return s
}

func residualSection(d *Data) *section {
	s := &section{ID: "residuals", Title: "Residuals"}
	if !d.testOK() || !d.regression() {
		s.Missing = "no regression test predictions"
		return s
	}
	res := make([]float64, len(d.Test.Y))
	for i := range res {
		res[i] = d.Test.Y[i] - d.Test.Pred[i]
	}
	px, py, thinned := everyKth(d.Test.Pred, res, maxScatterPoints)
	sc := &chart{File: "residuals", Title: "Residuals (actual − predicted) vs predicted", XLabel: "predicted", YLabel: "residual", ZeroY: true,
		Series: []series{{Kind: points, X: px, Y: py, Color: colorAt(0)}}}
	cats, counts := histogram(res, 30)
	hc := &chart{File: "residual_histogram", Title: "Residual distribution", XLabel: "residual", YLabel: "rows", Categories: cats,
		Series: []series{{Kind: bars, Y: counts, Color: colorAt(3)}}}
	s.Charts = charts(sc, hc)
	if thinned {
		s.Notes = []string{drawnNote(len(py), len(res), "the histogram counts all of them")}
	}
	return s
}

// histogram counts v in bins equal-width bins labelled by their centres.
func histogram(v []float64, bins int) ([]string, []float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range v {
		if finite(x) {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	if math.IsInf(lo, 1) {
		return nil, nil
	}
	if hi == lo {
		hi = lo + 1
	}
	// Bins of a round width from a multiple of it, at most bins+1 of them,
	// so the centres labelling them are round too: edges at the data's
	// minimum labelled ames' prices 25.16k, 74.64k, 124.1k.
	w := niceStep((hi - lo) / float64(bins))
	start := math.Floor(lo/w) * w
	n := int(math.Ceil((hi - start) / w))
	if n < 1 || n > bins+1 || start+w == start {
		start, w, n = lo, (hi-lo)/float64(bins), bins
	}
	counts := make([]float64, n)
	for _, x := range v {
		if finite(x) {
			// The last bin holds the maximum, on its upper edge.
			counts[max(0, min(int((x-start)/w), n-1))]++
		}
	}
	cats := make([]string, n)
	for i := range cats {
		cats[i] = num(start + (float64(i)+0.5)*w)
	}
	return cats, counts
}

func errorSection(d *Data) *section {
	s := &section{ID: "errors", Title: "Error analysis"}
	if len(d.TopErrors) == 0 && len(d.ResidualBins) == 0 && len(d.SegmentResiduals) == 0 {
		s.Missing = "no error analysis (regression only)"
		return s
	}
	if len(d.TopErrors) > 0 {
		t := table{Caption: "Largest errors (data row: the row's index in the data file, from 0, header excluded, as --test-rows files count)",
			Head: []string{"data row", "actual", "predicted", "residual", "relative error", "segment"}}
		for _, e := range d.TopErrors {
			rel := numc(100 * e.RelError)
			rel.Text += "%"
			t.Rows = append(t.Rows, []cell{intc(e.Row), numc(e.Y), numc(e.Pred), numc(e.Residual), rel, txt(e.Segment)})
		}
		s.Tables = append(s.Tables, t)
	}
	for i, f := range d.ResidualBins {
		// An axis label would overlap the rotated bin labels: the title
		// says what a date bin's label is.
		title := "Residuals by " + f.Feature + " (quantile bins)"
		if f.Datetime {
			title = "Residuals by " + f.Feature + " (quantile bins from the date shown)"
		}
		var cats []string
		var mean, mae []float64
		for _, b := range f.Bins {
			label := b.Label
			switch {
			case finite(b.Lo) && f.Datetime:
				label = binStart(b.Lo, b.Hi)
			case finite(b.Lo) && b.Lo == b.Hi:
				// A bin of one value (a discrete feature such as a
				// discount of 0, 5% or 10%) is that value, not "0.05–0.05".
				label = num(b.Lo)
			case finite(b.Lo):
				label = num(b.Lo) + "–" + num(b.Hi)
			}
			cats = append(cats, label)
			mean = append(mean, b.MeanResidual)
			mae = append(mae, b.MAE)
		}
		c := &chart{File: fmt.Sprintf("residuals_by_%s", fileName(f.Feature, i)), Title: title, YLabel: "residual", Categories: cats,
			Series: []series{{Name: "mean residual", Kind: bars, Y: mean, Color: colorAt(0)}, {Name: "MAE", Kind: bars, Y: mae, Color: colorAt(2)}}}
		s.Charts = append(s.Charts, charts(c)...)
	}
	if len(d.SegmentResiduals) > 0 {
		t := table{Caption: "Residuals by segment, worst first", Head: []string{"segment", "rows", "within 20%", "MAE", "RMSE", "mean residual"}}
		for _, g := range d.SegmentResiduals {
			t.Rows = append(t.Rows, []cell{txt(g.Label), intc(g.Rows), numc(g.Within20), numc(g.MAE), numc(g.RMSE), numc(g.MeanResidual)})
		}
		s.Tables = append(s.Tables, t)
	}
	s.Notes = []string{"Residual = actual − predicted: positive where the model predicts too low."}
	return s
}

func calibrationSection(d *Data) *section {
	s := &section{ID: "calibration", Title: "Calibration"}
	if d.Calibration == nil || len(d.Calibration.Bins) == 0 {
		s.Missing = "no classifier probabilities"
		return s
	}
	var x, y []float64
	for _, b := range d.Calibration.Bins {
		x = append(x, b.MeanProb)
		y = append(y, b.Observed)
	}
	yl := "observed share of " + d.className(1)
	if d.Calibration.TopLabel {
		yl = "accuracy"
	}
	c := &chart{File: "calibration", Title: "Reliability diagram", XLabel: "mean predicted probability", YLabel: yl, Diagonal: true,
		Series: []series{{Name: "model", Kind: line, X: x, Y: y, Color: colorAt(0)}}}
	s.Charts = charts(c)
	s.Notes = []string{fmt.Sprintf("Expected calibration error %.4f, Brier score %.4f.", d.Calibration.ECE, d.Calibration.Brier)}
	t := table{Head: []string{"bin", "rows", "mean probability", "observed"}}
	for _, b := range d.Calibration.Bins {
		t.Rows = append(t.Rows, []cell{txt(fmt.Sprintf("[%.2f, %.2f)", b.Lo, b.Hi)), intc(b.Rows), numc(b.MeanProb), numc(b.Observed)})
	}
	s.Tables = []table{t}
	return s
}

func segmentSection(d *Data) *section {
	s := &section{ID: "segments", Title: "Per-segment metrics"}
	if d.SegmentModels != nil {
		t, notes := segmentModelsTable(d)
		s.Tables, s.Notes = append(s.Tables, t), notes
	}
	if len(d.Segments) == 0 {
		if d.SegmentModels == nil {
			s.Missing = "no segment column"
		}
		return s
	}
	metric := "within20"
	if !d.regression() {
		metric = "accuracy"
	}
	var all []eval.Metrics
	for _, g := range d.Segments {
		all = append(all, g.Test)
	}
	keys := metricKeys(metric, all...)
	head := []string{"segment", "rows"}
	for _, k := range keys {
		head = append(head, metricHead(k))
	}
	t := table{Caption: "worst first", Head: head}
	var cats []string
	var vals []float64
	for _, g := range d.Segments {
		row := []cell{txt(g.Segment), intc(g.Rows)}
		for _, k := range keys {
			row = append(row, metricCell(g.Test, k))
		}
		t.Rows = append(t.Rows, row)
		cats = append(cats, g.Segment)
		vals = append(vals, metricOr(g.Test, metric))
	}
	if len(cats) > 30 {
		cats, vals = cats[:30], vals[:30]
	}
	c := &chart{File: "segments", Title: metric + " by segment (worst 30)", YLabel: metric, Categories: cats,
		Series: []series{{Kind: bars, Y: vals, Color: colorAt(4)}}}
	s.Charts = charts(c)
	s.Tables = append(s.Tables, t)
	return s
}

func rulesSection(d *Data) *section {
	s := &section{ID: "rules", Title: "Business rules"}
	if len(d.Rules) == 0 {
		s.Missing = "no business rules configured (business_rules)"
		return s
	}
	t := table{Head: []string{"rule", "kind", "result", "gate", "value", "threshold", "detail"}}
	for _, r := range d.Rules {
		detail := r.Detail
		if r.Error != "" {
			detail = "could not check: " + r.Error
		}
		gate := "no"
		if r.Gate {
			gate = "yes"
		}
		t.Rows = append(t.Rows, []cell{txt(r.Name), txt(string(r.Kind)), passc(r.Passed), txt(gate), numc(r.Value), numc(r.Threshold), txt(detail)})
	}
	s.Tables = []table{t}
	return s
}

func gatesSection(d *Data) *section {
	s := &section{ID: "gates", Title: "Quality gates"}
	if len(d.Gates) == 0 {
		s.Missing = "no quality gates applied"
		return s
	}
	t := table{Head: []string{"gate", "metric", "value", "threshold", "result"}}
	for _, g := range d.Gates {
		t.Rows = append(t.Rows, []cell{txt(g.Name), txt(g.Metric), numc(g.Value), numc(g.Threshold), passc(g.Passed)})
	}
	s.Tables = []table{t}
	return s
}

func fallbackSection(d *Data) *section {
	s := &section{ID: "fallbacks", Title: "Stage fallbacks and warnings"}
	if len(d.Fallbacks)+len(d.Warnings) == 0 {
		s.Notes = []string{"No stage fell back and no warning was raised."}
		return s
	}
	for _, f := range d.Fallbacks {
		s.List = append(s.List, "fallback: "+f)
	}
	for _, w := range d.Warnings {
		if !contains(d.Fallbacks, w) {
			s.List = append(s.List, "warning: "+w)
		}
	}
	return s
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func cacheSection(d *Data) *section {
	s := &section{ID: "cache", Title: "Cache"}
	if d.Cache == nil || d.Cache.Hits+d.Cache.Misses == 0 {
		s.Missing = "no cache lookups recorded"
		return s
	}
	c := &chart{File: "cache", Title: fmt.Sprintf("Cache hit rate %.1f%%", 100*d.Cache.HitRate()), YLabel: "lookups", Categories: []string{"hits", "misses"},
		Series: []series{{Kind: bars, Y: []float64{float64(d.Cache.Hits), float64(d.Cache.Misses)}, Color: colorAt(4)}}}
	s.Charts = charts(c)
	s.Notes = []string{fmt.Sprintf("%d hits, %d misses: hit rate %.1f%%.", d.Cache.Hits, d.Cache.Misses, 100*d.Cache.HitRate())}
	return s
}

func timingSection(d *Data) *section {
	s := &section{ID: "timings", Title: "Timings"}
	if len(d.Timings) == 0 {
		s.Missing = "no timings"
		return s
	}
	keys := make([]string, 0, len(d.Timings))
	for k := range d.Timings {
		if k != "total" {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return d.Timings[keys[i]] > d.Timings[keys[j]] })
	var vals []float64
	for _, k := range keys {
		vals = append(vals, d.Timings[k])
	}
	title := "Seconds by step"
	if t, ok := d.Timings["total"]; ok {
		title += fmt.Sprintf(" (total %.2f s)", t)
	}
	c := &chart{Title: title, YLabel: "seconds", Horizontal: true, Categories: keys, Series: []series{{Kind: bars, Y: vals, Color: colorAt(6)}}}
	s.Charts = charts(c)
	return s
}

// fileName makes a safe PNG base name from a feature name, unique by k.
func fileName(feature string, k int) string {
	var b strings.Builder
	for _, r := range strings.ToLower(feature) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	name := b.String()
	if len(name) > 40 {
		name = name[:40]
	}
	return fmt.Sprintf("%02d_%s", k, name)
}

// classList lists class labels separated by commas, each quoted when any
// one holds a comma, a quote or space at an end, or is empty: "bus,
// double-decker" and " van " joined bare read as other classes.
func classList(classes []string) string {
	if !slices.ContainsFunc(classes, func(c string) bool {
		return c == "" || strings.ContainsAny(c, ",\"") || strings.TrimSpace(c) != c
	}) {
		return strings.Join(classes, ", ")
	}
	q := make([]string, len(classes))
	for i, c := range classes {
		q[i] = strconv.Quote(c)
	}
	return strings.Join(q, ", ")
}

// binStart labels a bin of Unix seconds with its first date (UTC), to
// the hour when the bin is under two days wide: a range of two dates is
// longer than a rotated bar label may be, and quantile bins are
// contiguous, so the next bin's start is this one's end.
func binStart(lo, hi float64) string {
	layout := "2006-01-02"
	if hi-lo < 2*24*3600 {
		layout = "2006-01-02 15h"
	}
	return time.Unix(int64(math.Floor(lo)), 0).UTC().Format(layout)
}
