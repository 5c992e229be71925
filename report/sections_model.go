package report

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// Sections that explain the model: importances, SHAP, partial dependence,
// learning curves and the bias-variance decomposition.

func importanceSection(d *Data) *section {
	s := &section{ID: "importance", Title: "Feature importance"}
	if len(d.FeatureImportance) == 0 {
		s.Missing = "no feature importance"
		return s
	}
	imp := append([]Importance(nil), d.FeatureImportance...)
	sort.SliceStable(imp, func(i, j int) bool { return math.Abs(imp[i].Value) > math.Abs(imp[j].Value) })
	imp = imp[:min(len(imp), 20)]
	// Horizontal bars run top-down, so the most important comes first.
	var cats []string
	var vals []float64
	for _, f := range imp {
		cats = append(cats, f.Feature)
		vals = append(vals, f.Value)
	}
	c := &chart{File: "feature_importance", Title: "Feature importance (top 20)", YLabel: "importance", Horizontal: true, Categories: cats,
		Series: []series{{Kind: bars, Y: vals, Color: colorAt(0)}}}
	s.Charts = charts(c)
	return s
}

func shapSection(d *Data) *section {
	s := &section{ID: "shap", Title: "SHAP values"}
	sh := d.SHAP
	if sh == nil || len(sh.Values) == 0 || len(sh.Features) == 0 {
		s.Missing = "no SHAP values"
		return s
	}
	order := shapOrder(sh, 12)
	output := sh.Output
	if output == "" {
		output = "the prediction"
	}
	s.Charts = charts(shapBeeswarm(sh, order, output))
	deps, skipped := shapDependence(sh, order, output, 3)
	s.Charts = append(s.Charts, deps...)
	s.Notes = []string{"Each dot is one row: its position is the feature's contribution to that row's " + output + ", its colour the feature's value (blue low, red high). A row's contributions add up, with the average over the reference rows, to its " + output + "."}
	if sh.Output == "" {
		s.Notes[0] = "Each dot is one row: its position is the feature's contribution to that row's prediction, its colour the feature's value (blue low, red high)."
	}
	if len(skipped) > 0 {
		s.Notes = append(s.Notes, "No dependence plot for "+strings.Join(skipped, ", ")+": no numeric values (categorical or datetime); the summary shows the spread of their contributions (grey dots).")
	}
	return s
}

// shapOrder returns the indices of sh's features by mean |SHAP|, most
// important first, at most most of them.
func shapOrder(sh *SHAP, most int) []int {
	nf := len(sh.Features)
	meanAbs := make([]float64, nf)
	for _, row := range sh.Values {
		for j := range min(nf, len(row)) {
			meanAbs[j] += math.Abs(row[j]) / float64(len(sh.Values))
		}
	}
	order := make([]int, nf)
	for j := range order {
		order[j] = j
	}
	sort.SliceStable(order, func(a, b int) bool { return meanAbs[order[a]] > meanAbs[order[b]] })
	return order[:min(nf, most)]
}

// shapBeeswarm is the summary chart of the features in order: a row of
// dots per feature, coloured by the feature's value.
func shapBeeswarm(sh *SHAP, order []int, output string) *chart {
	// Beeswarm rows are drawn bottom-up, so reverse for the top slot.
	cats := make([]string, len(order))
	var x, y, heat []float64
	for slot := range order {
		j := order[len(order)-1-slot]
		cats[slot] = sh.Features[j]
		lo, hi := featureRange(sh.FeatureValues, j)
		vals := make([]float64, 0, len(sh.Values))
		for _, row := range sh.Values {
			vals = append(vals, row[j])
		}
		jit := swarmOffsets(vals)
		for i, row := range sh.Values {
			x = append(x, row[j])
			y = append(y, float64(slot)+jit[i])
			fv := math.NaN()
			if i < len(sh.FeatureValues) && j < len(sh.FeatureValues[i]) && hi > lo {
				fv = (sh.FeatureValues[i][j] - lo) / (hi - lo)
			}
			heat = append(heat, fv)
		}
	}
	return &chart{File: "shap_summary", Title: "SHAP summary (beeswarm)", XLabel: "SHAP value (contribution to " + output + ")", YCategories: cats, ColorLabel: "feature value",
		Series: []series{{Kind: points, X: x, Y: y, Heat: heat}}}
}

// shapDependence draws the dependence plots of the first n features in
// order that have numeric values, and names those skipped for having
// none.
func shapDependence(sh *SHAP, order []int, output string, n int) (out []renderedChart, skipped []string) {
	k := 0
	for _, j := range order {
		if k == n {
			break
		}
		var fx, fy []float64
		for i, row := range sh.Values {
			if i < len(sh.FeatureValues) && j < len(sh.FeatureValues[i]) && finite(sh.FeatureValues[i][j]) {
				fx = append(fx, sh.FeatureValues[i][j])
				fy = append(fy, row[j])
			}
		}
		// A categorical or datetime feature has no numeric values (NaN):
		// its plot would be an empty frame, so the next one takes its place.
		if len(fx) == 0 {
			skipped = append(skipped, sh.Features[j])
			continue
		}
		dep := &chart{File: "shap_dependence_" + fileName(sh.Features[j], k), Title: "SHAP dependence: " + sh.Features[j], XLabel: sh.Features[j], YLabel: "SHAP value (" + output + ")", ZeroY: true,
			Series: []series{{Kind: points, X: fx, Y: fy, Color: colorAt(k)}}}
		out = append(out, charts(dep)...)
		k++
	}
	return out, skipped
}

func featureRange(fv [][]float64, j int) (lo, hi float64) {
	var vals []float64
	for _, row := range fv {
		if j < len(row) && finite(row[j]) {
			vals = append(vals, row[j])
		}
	}
	if len(vals) == 0 {
		return 0, 0
	}
	sort.Float64s(vals)
	// 5th to 95th percentile, as SHAP's colour scale, so outliers do not
	// wash out the colours.
	return vals[len(vals)*5/100], vals[(len(vals)-1)*95/100]
}

// swarmOffsets spreads points vertically by the density of their values
// (a cheap beeswarm): a point's offset grows with how many points share
// its bin, alternating up and down, at most ±0.4.
func swarmOffsets(v []float64) []float64 {
	out := make([]float64, len(v))
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range v {
		if finite(x) {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	if !(hi > lo) {
		hi = lo + 1
	}
	const nb = 60
	count := make([]int, nb)
	maxCount := 1
	for _, x := range v {
		if finite(x) {
			b := min(int((x-lo)/(hi-lo)*nb), nb-1)
			count[b]++
			maxCount = max(maxCount, count[b])
		}
	}
	seen := make([]int, nb)
	for i, x := range v {
		if !finite(x) {
			continue
		}
		b := min(int((x-lo)/(hi-lo)*nb), nb-1)
		k := seen[b]
		seen[b]++
		off := 0.4 * float64((k+1)/2) / float64(max(1, maxCount/2))
		if k%2 == 1 {
			off = -off
		}
		out[i] = math.Max(-0.4, math.Min(0.4, off))
	}
	return out
}

func pdpSection(d *Data) *section {
	s := &section{ID: "pdp", Title: "Partial dependence and ICE"}
	if len(d.PDP) == 0 {
		s.Missing = "no partial dependence curves"
		return s
	}
	// Name what is predicted: a binary task's curves are of the positive
	// class's probability, which a bare "prediction" left to guess.
	yl := "prediction"
	switch {
	case d.regression() && d.Target != "":
		yl = "predicted " + d.Target
	case d.classes() == 2:
		yl = "probability of " + d.className(1)
	}
	multi, other := false, 0
	for k, p := range d.PDP {
		c := &chart{File: "pdp_" + fileName(p.Feature, k), Title: "Partial dependence: " + p.Feature, XLabel: p.Feature, YLabel: yl, XDates: p.Datetime}
		if len(p.Classes) > 0 {
			multi, other = true, max(other, p.OtherClasses)
			c.YLabel = "predicted probability"
			c.Series = classPDSeries(d, p)
			s.Charts = append(s.Charts, charts(c)...)
			continue
		}
		for _, ice := range p.ICE {
			c.Series = append(c.Series, series{Kind: line, X: p.Grid, Y: ice, Color: colorAt(0), Thin: true})
		}
		c.Series = append(c.Series, series{Name: "average (PDP)", Kind: line, X: p.Grid, Y: p.Average, Color: colorAt(2)})
		s.Charts = append(s.Charts, charts(c)...)
	}
	s.Notes = []string{"Thin lines are individual rows (ICE); the bold line is their average."}
	if multi {
		note := "One line per class: its predicted probability averaged over sampled test rows as the feature varies " +
			"(the classes' lines sum to 1 at each point, so a rise in one is a fall in others)."
		if other > 0 {
			note += fmt.Sprintf(" Each chart shows the %d classes the feature moves most; the other %d stay within the smallest range shown.",
				len(d.PDP[0].Classes), other)
		}
		s.Notes = []string{note}
	}
	return s
}

// classPDSeries returns a line per class of a multiclass PDP, coloured
// by the class's place in d.Classes so that a class keeps its colour
// from chart to chart (while the palette lasts).
func classPDSeries(d *Data, p PDP) []series {
	out := make([]series, len(p.Classes))
	for i, cp := range p.Classes {
		col := colorAt(i)
		if k := slices.Index(d.Classes, cp.Class); k >= 0 && len(d.Classes) <= len(palette) {
			col = colorAt(k)
		}
		out[i] = series{Name: cp.Class, Kind: line, X: p.Grid, Y: cp.Average, Color: col}
	}
	return out
}

func curveSection(d *Data) *section {
	s := &section{ID: "curves", Title: "Learning and validation curves"}
	metric := d.LearningMetric
	if metric == "" {
		metric = d.Metric
	}
	if len(d.LearningCurve) > 0 {
		var x, tr, va []float64
		for _, p := range d.LearningCurve {
			x = append(x, float64(p.Size))
			tr = append(tr, metricOr(p.Train, metric))
			va = append(va, metricOr(p.Valid, metric))
		}
		c := &chart{File: "learning_curve", Title: join("Learning curve", d.LearningFamily), XLabel: "training rows", YLabel: metric,
			Series: []series{{Name: "train", Kind: line, X: x, Y: tr, Color: colorAt(0)}, {Name: "validation", Kind: line, X: x, Y: va, Color: colorAt(1), Dashed: true}}}
		s.Charts = append(s.Charts, charts(c)...)
	}
	if vc := d.ValidationCurve; vc != nil && len(vc.Points) > 0 {
		m := vc.Metric
		if m == "" {
			m = metric
		}
		var x, tr, va []float64
		for _, p := range vc.Points {
			x = append(x, p.Value)
			tr = append(tr, metricOr(p.Train, m))
			va = append(va, metricOr(p.Valid, m))
		}
		xl := vc.Param
		if logSpaced(x) {
			// A regularisation strength swept over decades (logistic's c
			// from 0.001 to 100) squeezed all but the last points
			// against 0 on a linear axis.
			for i := range x {
				x[i] = math.Log10(x[i])
			}
			xl = "log10 " + vc.Param
		}
		c := &chart{File: "validation_curve", Title: join("Validation curve", vc.Family, vc.Param), XLabel: xl, YLabel: m,
			Series: []series{{Name: "train", Kind: line, X: x, Y: tr, Color: colorAt(0)}, {Name: "validation", Kind: line, X: x, Y: va, Color: colorAt(1), Dashed: true}}}
		s.Charts = append(s.Charts, charts(c)...)
	}
	if len(s.Charts) == 0 {
		s.Missing = "not computed (set report_curves, or run tabforge report RUN --curves)"
	}
	return s
}

// logSpaced reports whether positive values span at least two decades,
// a sweep to plot on a log axis.
func logSpaced(x []float64) bool {
	if len(x) < 3 {
		return false
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range x {
		if !(v > 0) || math.IsInf(v, 0) {
			return false
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	return hi/lo >= 100
}

func biasVarianceSection(d *Data) *section {
	s := &section{ID: "bias-variance", Title: "Bias–variance by model family"}
	var fams []FamilyBiasVariance
	for _, f := range d.BiasVariance {
		if f.Result != nil {
			fams = append(fams, f)
		}
	}
	if len(fams) == 0 {
		s.Missing = "not computed (set bias_variance_rounds, or run tabforge report RUN --bias-variance-rounds N)"
		return s
	}
	var cats []string
	var b, v, n []float64
	t := table{Head: []string{"family", "loss", "rounds", "expected loss", "bias² / bias", "variance", "net variance", "noise"}}
	for _, f := range fams {
		r := f.Result
		cats = append(cats, f.Family)
		noise := txt("not available")
		if r.Loss == "zero_one" {
			b = append(b, r.Bias)
			v = append(v, r.NetVariance)
			n = append(n, 0)
			noise = txt("taken as 0")
			t.Rows = append(t.Rows, []cell{txt(f.Family), txt("0-1"), intc(r.Rounds), numc(r.ExpectedLoss), numc(r.Bias), numc(r.Variance), numc(r.NetVariance), noise})
			continue
		}
		b = append(b, r.Bias2)
		v = append(v, r.Variance)
		n = append(n, r.Noise)
		if r.NoiseAvailable {
			noise = numc(r.Noise)
		}
		t.Rows = append(t.Rows, []cell{txt(f.Family), txt("squared"), intc(r.Rounds), numc(r.ExpectedLoss), numc(r.Bias2), numc(r.Variance), txt("–"), noise})
	}
	c := &chart{File: "bias_variance", Title: "Bias–variance decomposition of the test loss", YLabel: "loss", Categories: cats, Stacked: true,
		Series: []series{{Name: "bias", Kind: bars, Y: b, Color: colorAt(0)}, {Name: "variance", Kind: bars, Y: v, Color: colorAt(1)}, {Name: "noise", Kind: bars, Y: n, Color: colorAt(9)}}}
	s.Charts = charts(c)
	s.Tables = []table{t}
	s.Notes = []string{"Bootstrap rounds refit each family on resamples of the training part and score a fixed test set. " +
		"Squared loss: expected loss = bias² + variance + noise; noise comes from repeated inputs and is otherwise part of bias². " +
		"0-1 loss (Domingos): expected loss = bias + net variance."}
	return s
}
