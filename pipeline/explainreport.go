package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/explain"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/report"
)

// Sizes of the report's explanations. They keep a report to seconds: the
// page needs a few hundred dots per beeswarm row, not every row, and
// KernelSHAP (routed predictors, models and ensembles without an exact
// explainer) costs rows × samples × background predictions.
const (
	// reportSHAPRows caps the test rows explained exactly (TreeSHAP,
	// linear SHAP), below max_explain_rows.
	reportSHAPRows = 500
	// reportTreeSHAPWork bounds the rows TreeSHAP explains by the model's
	// size (explain.TreeEnsemble.RowCost per row, about 3e8 a second
	// here): a 100-tree forest grown on 20,000-row samples costs 1e8 a
	// row, so it gets reportMinSHAPRows rows, where a booster gets 500;
	// larger models get fewer (reportRows).
	reportTreeSHAPWork = 2e9
	reportMinSHAPRows  = 20
	// reportInterventionalCPU bounds the rows an ensemble's
	// interventional SHAP explains by its estimated CPU time, in
	// nanoseconds (interventionalRowCost, from pair walks counted on a
	// probe and priced by explain.InterventionalCost's measured
	// constants): 1.5 CPU seconds, what KernelSHAP's 30 rows cost the
	// report before. The trees' node count it replaces misjudged a row by
	// the family and the classes: Vehicle's 4-class gbdt and forest rows
	// cost 1.6 and 1.5 times what the count allowed for, vowel's 11-class
	// gbdt 3.4 times, a regression forest of 5 deep trees a seventh; so
	// Vehicle's gbdt and logistic pick took 2.3-3.1 CPU seconds, 43-45%
	// of its train run.
	reportInterventionalCPU = 1.5e9
	// reportMinInterventionalRows is the fewest rows interventional SHAP
	// explains at its full background, below reportMinSHAPRows: vowel's
	// 11-class gbdt and forest pick costs about 0.15 CPU seconds a row,
	// so 20 rows took three times the budget. Members costlier still
	// (a 500-tree forest fully grown on 20,000 rows: 0.44 CPU seconds a
	// row estimated, so 10 rows took 2.9 times the budget; measured on 2
	// shared cores, more) are measured against fewer background rows
	// (that forest: 34), down to
	// reportMinInterventionalBackground, and only then explained on
	// fewer rows, down to 1: the cost is linear in both.
	reportMinInterventionalRows = 10
	// reportMinInterventionalBackground is the fewest background rows
	// the report measures interventional values against: exact values
	// against a smaller sample, the base value its mean prediction.
	reportMinInterventionalBackground = 20
	// reportKernelRows, reportKernelSamples and reportKernelBackground
	// size KernelSHAP: rows explained, coalitions per row, background
	// rows (k-means centres).
	reportKernelRows       = 30
	reportKernelSamples    = 160
	reportKernelBackground = 8
	// reportPDPFeatures is how many of the most important numeric inputs
	// get a partial dependence plot beside monotonic rules' features.
	reportPDPFeatures = 3
	// pdpRows caps the rows partial dependence averages over (and the
	// ICE curves drawn); pdpGrid is the grid size.
	pdpRows = 100
	pdpGrid = 20
)

// explainRun fills d's SHAP values and feature importance from the saved
// predictor on a sample of the test rows x and returns the raw numeric
// inputs ranked by importance (for partial dependence).
func explainRun(ctx context.Context, cfg *config.Config, pred *Predictor, x *frame.Frame, d *report.Data, warn func(string, error)) []string {
	in, err := NewExplainInput(pred, x)
	if err != nil {
		warn("SHAP values", err)
		return nil
	}
	s := exactExplainer(pred, in)
	if s.probe {
		// A failed probe fails Explain too, which says why; until then
		// the row cost is unknown and the fewest rows are explained.
		if s.rowCost, s.background, err = interventionalRowCost(ctx, pred, x, cfg.Seed); err != nil {
			s.rowCost, s.background = math.Inf(1), 0
		}
	}
	plan := reportRows(cfg, s, x.NumRows())
	if plan.warning != "" {
		d.Warnings = append(d.Warnings, plan.warning)
	}
	opts := ExplainOptions{MaxRows: plan.rows, Options: explain.Options{Seed: cfg.Seed, Workers: cfg.Workers, InterventionalBackground: plan.background}}
	if !s.exact {
		opts.MaxRows = min(plan.rows, reportKernelRows)
		opts.BackgroundSize, opts.KernelSamples = reportKernelBackground, reportKernelSamples
	}
	v, err := Explain(ctx, pred, x, opts)
	if err != nil {
		if ctx.Err() == nil {
			warn("SHAP values", err)
			modelImportances(in, d)
		}
		return rankedInputs(pred, d.FeatureImportance)
	}
	// Values that are not exact say so: KernelSHAP's notes say what was
	// estimated rather than computed, and why; interventional values of
	// members with a link (sigmoid, exp of a log(1+y) fit, softmax) that
	// each pair's margin values were rescaled through it, which keeps
	// local accuracy but is not the Shapley value of the prediction's own
	// game. An exact path's notes only say how its values were assembled.
	if v.Method == explain.MethodKernel || !v.Exact {
		for _, n := range v.Notes {
			d.Warnings = append(d.Warnings, "report: SHAP: "+n)
		}
	}
	// The plotted output of each row: the value, class 1's probability
	// or margin, or a multiclass row's predicted class (predictedOutputs).
	ks := predictedOutputs(v)
	if v.Outputs > 1 {
		d.Warnings = append(d.Warnings, "report: SHAP plots show each row's values for its predicted class")
	}
	cat := in.Categorical
	if !in.Raw {
		if u, c, ok := byInputs(pred, v, x); ok {
			v, cat = u, c
		}
	}
	d.SHAP = shapData(v, ks, cat, x, !in.Raw)
	k := 0
	if v.Outputs > 1 {
		k = predictedClass
	}
	d.SHAP.Output = shapOutput(v, k, pred.Target)
	imp := make([]float64, v.Features)
	for o := range v.Outputs {
		for j, m := range v.MeanAbs(o) {
			imp[j] += m
		}
	}
	d.FeatureImportance = d.FeatureImportance[:0]
	for j, name := range v.FeatureNames {
		d.FeatureImportance = append(d.FeatureImportance, report.Importance{Feature: name, Value: imp[j]})
	}
	return rankedInputs(pred, d.FeatureImportance)
}

// byInputs sums a single model's design-feature values into its input
// columns (one-hot levels, datetime parts), as an ensemble's are, so the
// report names the columns the user has rather than island_Dream or
// sex___missing__; cat marks the columns without a numeric value to
// plot. ok is false when a design feature comes from no input column of
// x (an advanced feature chain's): the values stay per design feature.
func byInputs(p *Predictor, v *explain.Values, x *frame.Frame) (u *explain.Values, cat []bool, ok bool) {
	if p.Design == nil {
		return nil, nil, false
	}
	owners := p.Design.FeatureColumns()
	col := make(map[string]int)
	var names []string
	for _, o := range owners {
		if _, seen := col[o]; seen {
			continue
		}
		c, found := x.Lookup(o)
		if !found {
			return nil, nil, false
		}
		col[o] = len(names)
		names = append(names, o)
		cat = append(cat, c.Kind != frame.Numeric)
	}
	u, err := byInputColumn(v, owners, col, names)
	if err != nil {
		return nil, nil, false
	}
	u.X = nil // the design's values; shapData reads the inputs'
	return u, cat, true
}

// reportPlan is how many test rows the report explains, against how
// many background rows (0: Explain's default), and the warning saying
// why, when a budget cut them ("" otherwise).
type reportPlan struct {
	rows, background int
	warning          string
}

// reportRows plans the explanation of the n test rows with s: up to n,
// reportSHAPRows and max_explain_rows, and as many as s's work budget
// allows, at least s.minRows while those fit it. Interventional values
// whose s.minRows rows overrun the budget against their s.background
// rows are measured against fewer background rows (their cost is linear
// in them), down to reportMinInterventionalBackground, and only then
// explained on fewer rows; TreeSHAP's on fewer rows; down to 1 (a
// 500-tree forest fully grown on 20,000 rows costs 4.2e8 a row: 20 rows
// were 4.2 times the budget, 40 CPU seconds on 2 shared cores). Midwest's
// 88 test rows, of which the budget allowed 467, were once reported as
// "SHAP values of 467 test rows".
func reportRows(cfg *config.Config, s reportSizing, n int) reportPlan {
	rows := min(reportSHAPRows, n)
	if cfg.MaxExplainRows > 0 {
		rows = min(rows, cfg.MaxExplainRows)
	}
	if s.rowCost <= 0 {
		return reportPlan{rows: rows}
	}
	fit := int(min(s.budget/s.rowCost, float64(rows)))
	if fit >= rows {
		return reportPlan{rows: rows}
	}
	if fit >= s.minRows || math.IsInf(s.rowCost, 1) {
		if fit = min(max(fit, s.minRows), rows); fit >= rows {
			return reportPlan{rows: rows}
		}
		return reportPlan{rows: fit, warning: fmt.Sprintf("report: SHAP values of %d test rows: %s", fit, s.why)}
	}
	// Even s.minRows rows overrun the budget.
	floor := min(s.minRows, rows)
	over := fmt.Sprintf("%d rows would take %.1f times the budget", floor, float64(floor)*s.rowCost/s.budget)
	if s.background <= reportMinInterventionalBackground {
		rows = max(1, fit)
		return reportPlan{rows: rows, warning: fmt.Sprintf("report: SHAP values of %d test rows: %s; %s", rows, s.why, over)}
	}
	// A background row costs s.rowCost/s.background a row.
	rows = floor
	bg := int(s.budget * float64(s.background) / (float64(rows) * s.rowCost))
	if bg < reportMinInterventionalBackground {
		bg = reportMinInterventionalBackground
		rows = max(1, min(rows, int(s.budget*float64(s.background)/(float64(bg)*s.rowCost))))
	}
	return reportPlan{rows: rows, background: bg, warning: fmt.Sprintf(
		"report: SHAP values of %d test rows against %d of the %d background rows: %s; %s against all of them", rows, bg, s.background, s.why, over)}
}

// reportSizing is how the report explains a predictor: exactly or
// deterministically within a work budget, or with KernelSHAP (which
// reportKernelRows bounds).
type reportSizing struct {
	exact   bool
	rowCost float64 // the work of one row; 0 means small enough to ignore
	budget  float64 // the work all rows may take, in rowCost's units
	minRows int     // the fewest rows explained whatever their cost
	why     string  // what makes rows costly, for the warning
	// background is the background rows rowCost was priced for, when
	// the cost is linear in them (interventional SHAP); 0 otherwise.
	background int
	// probe says that rowCost is yet to be measured on the rows
	// (interventionalRowCost): interventional SHAP's work depends on them.
	probe bool
}

// exactExplainer says how Explain explains p's input: exactly (TreeSHAP,
// linear SHAP, or an ensemble's members' exact values combined) or
// deterministically (an ensemble's interventional values), each with the
// cost of a row (explain.TreeEnsemble.RowCost, summed over an ensemble's
// members; 0 without trees; to be probed for interventional values) and
// its budget; otherwise with KernelSHAP.
func exactExplainer(p *Predictor, in *ExplainInput) reportSizing {
	const large = "the model's trees are large"
	if in.Raw {
		if ensembleExactness(p) == nil {
			return reportSizing{exact: true, rowCost: ensembleRowCost(p), budget: reportTreeSHAPWork, minRows: reportMinSHAPRows, why: large}
		}
		if ensembleSupport(p, explain.InterventionalSupport) == nil {
			return reportSizing{exact: true, probe: true, budget: reportInterventionalCPU, minRows: reportMinInterventionalRows,
				why: "interventional SHAP walks the members' trees once per background row for each row"}
		}
		return reportSizing{}
	}
	if te, err := explain.NewTreeEnsemble(in.Model); err == nil {
		return reportSizing{exact: true, rowCost: max(1, te.RowCost()), budget: reportTreeSHAPWork, minRows: reportMinSHAPRows, why: large}
	}
	if in.X.Rows == 0 {
		return reportSizing{}
	}
	_, err := explain.LinearSHAP(in.Model, in.X.TakeRows([]int{0}), in.FeatureNames)
	return reportSizing{exact: !errors.Is(err, explain.ErrUnsupported)}
}

// modelImportances falls back to the model's own feature importances
// (trees' impurity decrease) when SHAP values failed.
func modelImportances(in *ExplainInput, d *report.Data) {
	m, ok := in.Model.(interface{ FeatureImportances() []float64 })
	if !ok {
		return
	}
	for j, v := range m.FeatureImportances() {
		if j < len(in.FeatureNames) {
			d.FeatureImportance = append(d.FeatureImportance, report.Importance{Feature: in.FeatureNames[j], Value: v})
		}
	}
}

func outputLabel(v *explain.Values, k int) string {
	if k < len(v.OutputNames) {
		return v.OutputNames[k]
	}
	return fmt.Sprint(k)
}

// rankedInputs returns the raw numeric input columns among the features
// of imp, most important first. Design features that are not raw
// columns (one-hot indicators) are skipped.
func rankedInputs(pred *Predictor, imp []report.Importance) []string {
	kinds := map[string]frame.Kind{}
	for _, f := range pred.Schema {
		kinds[f.Name] = f.Kind
	}
	imp = slices.Clone(imp)
	sort.SliceStable(imp, func(i, j int) bool { return imp[i].Value > imp[j].Value })
	var out []string
	for _, f := range imp {
		if k, ok := kinds[f.Feature]; ok && k != frame.Categorical && f.Value > 0 {
			out = append(out, f.Feature)
		}
	}
	return out
}

// pdSample is a seeded sample of rows of x in the predictor's raw input
// space, for partial dependence: varying a raw column and running the
// whole predictor (feature chain, design, model or ensemble, routes).
func pdSample(pred *Predictor, x *frame.Frame, seed uint64) (*ExplainInput, error) {
	rows := explain.SampleRows(x.NumRows(), pdpRows, seed)
	if err := pred.checkSchema(x); err != nil {
		return nil, err
	}
	return rawInput(pred, x.Take(rows), nil)
}

// rawPDP returns package explain's partial dependence of the saved
// predictor on a raw input column, over a sample of the rows of x, as
// business rules ask for it (a feature and a grid).
func rawPDP(ctx context.Context, pred *Predictor, x *frame.Frame, seed uint64) func(string, []float64) ([]float64, error) {
	var in *ExplainInput
	var inErr error
	return func(feature string, grid []float64) ([]float64, error) {
		if in == nil && inErr == nil {
			in, inErr = pdSample(pred, x, seed)
		}
		if inErr != nil {
			return nil, inErr
		}
		pd, err := pdOf(ctx, in, feature, grid)
		if err != nil {
			return nil, err
		}
		return pd.Average, nil
	}
}

func pdOf(ctx context.Context, in *ExplainInput, feature string, grid []float64) (*explain.PD1, error) {
	j := slices.Index(in.FeatureNames, feature)
	if j < 0 {
		return nil, fmt.Errorf("feature %q is not an input of the model", feature)
	}
	if in.Categorical[j] {
		return nil, fmt.Errorf("feature %q is categorical", feature)
	}
	return explain.PartialDependence(ctx, in.Predict, in.Outputs, in.X, j, explain.PDOptions{Values: grid}, in.FeatureNames)
}

// partialDependence fills d.PDP with the partial dependence and ICE
// curves of monotonic rules' features and of the first
// reportPDPFeatures numeric inputs of top, on each feature's test-row
// quantile grid. custom, if set, replaces the average (AnalysisOptions)
// of a regression or binary model; a multiclass model gets a curve per
// class instead (classPD).
func partialDependence(ctx context.Context, pred *Predictor, x *frame.Frame, ruled, top []string, custom func(string, []float64) ([]float64, error), seed uint64, d *report.Data) error {
	var want []string
	for _, f := range ruled {
		if !slices.Contains(want, f) {
			want = append(want, f)
		}
	}
	added := 0
	for _, f := range top {
		if added < reportPDPFeatures && !slices.Contains(want, f) {
			want = append(want, f)
			added++
		}
	}
	if len(want) == 0 {
		return nil
	}
	in, err := pdSample(pred, x, seed)
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range want {
		c, ok := x.Lookup(f)
		if !ok || c.Kind == frame.Categorical {
			continue
		}
		grid := eval.QuantileGrid(c.Num, pdpGrid)
		if pred.Target.Task == model.Multiclass {
			p, err := classPD(ctx, in, f, grid, pred.Target.Classes)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				errs = append(errs, fmt.Errorf("%s: %w", f, err))
				continue
			}
			p.Datetime = c.Kind == frame.Datetime
			d.PDP = append(d.PDP, *p)
			continue
		}
		pd, err := pdOf(ctx, in, f, grid)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			errs = append(errs, fmt.Errorf("%s: %w", f, err))
			continue
		}
		p := report.PDP{Feature: f, Grid: pd.Grid, Average: pd.Average, Datetime: c.Kind == frame.Datetime}
		if custom != nil {
			if avg, err := custom(f, grid); err == nil {
				p.Average = avg
			}
		}
		for r := range pd.Rows {
			p.ICE = append(p.ICE, pd.ICE[r*len(pd.Grid):(r+1)*len(pd.Grid)])
		}
		d.PDP = append(d.PDP, p)
	}
	return errors.Join(errs...)
}

// pdpClasses is the most classes a multiclass partial dependence chart
// draws: more lines than that, in as many colours, are not told apart.
const pdpClasses = 6

// classPD is the partial dependence of a multiclass model's every class
// probability on feature f over grid: a line per class, as one chart,
// rather than scikit-learn's one chart per target class
// (PartialDependenceDisplay's target), since the probabilities share
// their mass and a class's curve alone hides which classes it goes to.
// With more than pdpClasses classes, the pdpClasses whose probability
// the feature moves most (the widest range of their curve) are kept, in
// class order. No ICE curves: a line per row and class is unreadable.
func classPD(ctx context.Context, in *ExplainInput, f string, grid []float64, classes []string) (*report.PDP, error) {
	j := slices.Index(in.FeatureNames, f)
	if j < 0 {
		return nil, fmt.Errorf("feature %q is not an input of the model", f)
	}
	if in.Categorical[j] {
		return nil, fmt.Errorf("feature %q is categorical", f)
	}
	if in.Outputs != len(classes) {
		return nil, fmt.Errorf("the model has %d outputs for %d classes", in.Outputs, len(classes))
	}
	pd, err := explain.PartialDependenceOutputs(ctx, in.Predict, in.Outputs, in.X, j, explain.PDOptions{Values: grid}, in.FeatureNames)
	if err != nil {
		return nil, err
	}
	keep := make([]int, len(classes))
	for c := range keep {
		keep[c] = c
	}
	if len(keep) > pdpClasses {
		span := func(c int) float64 { return slices.Max(pd.Average[c]) - slices.Min(pd.Average[c]) }
		// Stable, so that classes of equal range keep class order.
		slices.SortStableFunc(keep, func(a, b int) int { return cmp.Compare(span(b), span(a)) })
		keep = keep[:pdpClasses]
		slices.Sort(keep)
	}
	p := &report.PDP{Feature: f, Grid: pd.Grid, OtherClasses: len(classes) - len(keep)}
	for _, c := range keep {
		p.Classes = append(p.Classes, report.ClassPD{Class: classes[c], Average: pd.Average[c]})
	}
	return p, nil
}

// reportRun analyses a run Train has just finished (its prepared data p
// and saved predictor pred, before Deployable is decided), adds the
// gating business rules to res.Gates and writes the report into
// <cfg.Out>/<run id>/report, setting res.Report. A failed analysis or
// report is a warning in res.Warnings, never a failed run; only a
// cancelled ctx is returned.
func reportRun(ctx context.Context, cfg *config.Config, o Options, res *Result, p *prepared, pred *Predictor, log *slog.Logger) error {
	t0 := time.Now()
	ao := AnalysisOptions{Families: o.Families, Logger: log}.withDefaults()
	a := &Analysis{Data: ReportData(res)}
	if err := p.cachedAnalyze(ctx, cfg, res, pred, a, ao); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		a.Data.Warnings = append(a.Data.Warnings, "report: "+err.Error())
		res.Warnings = append(res.Warnings, "report: analysis failed: "+err.Error())
	}
	// The analysis is itself a cached step: count its lookup, as the
	// run's result will, or the page shows one lookup fewer.
	if o.Cache != nil {
		st := o.Cache.Stats()
		res.Cache = &st
		a.Data.Cache = &report.Cache{Hits: st.Hits, Misses: st.Misses}
	}
	for _, r := range a.Rules {
		if !r.Passed && !r.Gate {
			res.Warnings = append(res.Warnings, fmt.Sprintf("business rule %s (%s) failed: %s%s", r.Name, r.Kind, r.Detail, r.Error))
		}
	}
	describeRun(a.Data, cfg, p)
	res.Gates = append(res.Gates, a.RuleGates()...)
	a.Data.Gates = append(a.Data.Gates[:0], res.Gates...)
	a.Data.Deployable = res.Gates.Passed()
	res.Timings["report"] = since(t0)
	dir := filepath.Join(cfg.Out, res.RunID, "report")
	if _, err := report.WriteWith(ctx, dir, a.Data, report.Options{PNG: p.cachedPNG}); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		log.Warn("report not written", "err", err)
		res.Warnings = append(res.Warnings, "report not written: "+err.Error())
		return nil
	}
	res.Timings["report"] = since(t0)
	res.Report = filepath.Join(dir, report.HTMLFile)
	log.Info("wrote report", "path", res.Report, "seconds", res.Timings["report"])
	return nil
}
