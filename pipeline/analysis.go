package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/report"
	"github.com/tabforge/tabforge/split"
)

// AnalysisOptions tune Analyze; the zero value works.
type AnalysisOptions struct {
	// Families decodes the saved model and builds learners; nil means
	// Families().
	Families *model.Registry
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// PartialDependence, if set, replaces the average partial dependence
	// of a raw input column over a grid, for monotonic rules and the PDP
	// section; nil means package explain's partial dependence of the
	// saved predictor on a sample of the test rows.
	PartialDependence func(feature string, grid []float64) ([]float64, error)
	// TopErrors is how many of the largest errors to list; 0 means 10.
	TopErrors int
	// Strict makes WriteReport return a failed analysis as its error and
	// write nothing, instead of a report from the run record alone: what
	// a report written again wants, as it would replace a complete one.
	Strict bool
}

// Analysis is what Analyze adds to a run: the report's data, and the
// business-rule results (also in Data.Rules) for gating.
type Analysis struct {
	Data  *report.Data
	Rules []eval.RuleResult
	// Err, set by WriteReport, says why the analysis failed when the
	// report was written from the run's result alone.
	Err error
}

// RuleGates turns the results of gating rules into quality gates: Value 1
// for a pass and 0 for a failure against a Threshold of 1, so that
// Gates.Passed treats them like the metric gates, and Detail saying what
// was measured, which Gates.Failures reports.
func (a *Analysis) RuleGates() Gates {
	var out Gates
	for _, r := range a.Rules {
		if !r.Gate {
			continue
		}
		g := Gate{Name: "rule " + r.Name, Metric: string(r.Kind), Threshold: 1, Passed: r.Passed, Detail: r.Detail}
		if r.Passed {
			g.Value = 1
		}
		switch {
		case r.Error != "":
			g.Detail = "could not be checked: " + r.Error
		case g.Detail == "" && r.Passed && r.Kind == eval.RuleBounds:
			g.Detail = "holds: no prediction out of bounds"
		case g.Detail == "" && r.Passed:
			g.Detail = fmt.Sprintf("holds (measured %.4g, limit %.4g)", r.Value, r.Threshold)
		case g.Detail == "":
			g.Detail = fmt.Sprintf("fails (measured %.4g, limit %.4g)", r.Value, r.Threshold)
		}
		out = append(out, g)
	}
	return out
}

// Analyze re-derives a finished run's test predictions (the data at
// cfg.Data, which must still hash to res.DatasetHash, split as the run
// split it, predicted by the model saved at res.ModelPath) and computes
// what the report shows beyond res: error analysis, calibration,
// business rules (cfg.BusinessRules), explanations of the saved predictor
// on sampled test rows (SHAP summary and dependence, feature importance
// by mean |SHAP|, partial dependence and ICE of the top features and of
// monotonic rules' features), and, on request, learning and validation
// curves (cfg.ReportCurves) and a bias–variance decomposition per family
// (cfg.BiasVarianceRounds > 0). Curves and bias–variance fit single
// model families, so for an ensemble best they use the best single family
// of the leaderboard; their fits use each family's configured parameters
// (model_params), not tuned ones.
//
// A part that fails is left out with a warning in Data.Warnings, so a
// report is always written; only a missing or changed dataset or model
// is an error.
func Analyze(ctx context.Context, cfg *config.Config, res *Result, o AnalysisOptions) (*Analysis, error) {
	o = o.withDefaults()
	a := &Analysis{Data: ReportData(res)}
	f, err := ReadRecorded(cfg.Data, ReadOptions(cfg), res.DatasetHash)
	if err != nil {
		return a, fmt.Errorf("analysis: %w", err)
	}
	if h := f.Hash(); h != res.DatasetHash {
		return a, fmt.Errorf("analysis: dataset %s has changed since run %s (hash %.12s, the run saw %.12s)", cfg.Data, res.RunID, h, res.DatasetHash)
	}
	p, err := prepare(f, cfg, o.Logger)
	if err != nil {
		return a, fmt.Errorf("analysis: %w", err)
	}
	if stages, _ := advancedStages(cfg, targetColumn, p.horizon(cfg)); len(stages) > 0 {
		p.chain, _, _ = trialFit(ctx, stages, p)
	}
	describeRun(a.Data, cfg, p)
	pred, err := LoadPredictor(res.ModelPath, o.Families)
	if err != nil {
		return a, fmt.Errorf("analysis: %w", err)
	}
	return a, analyze(ctx, cfg, res, p, pred, a, o)
}

func (o AnalysisOptions) withDefaults() AnalysisOptions {
	if o.Families == nil {
		o.Families = Families()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.TopErrors <= 0 {
		o.TopErrors = 10
	}
	return o
}

// analyze fills a for the run res on its prepared data p and saved
// predictor pred; Analyze and Train share it.
func analyze(ctx context.Context, cfg *config.Config, res *Result, p *prepared, pred *Predictor, a *Analysis, o AnalysisOptions) error {
	d := a.Data
	xtest := p.x.Take(p.test)
	out, err := pred.Predict(xtest)
	if err != nil {
		return fmt.Errorf("analysis: predict the test rows: %w", err)
	}
	y := split.Take(p.y, p.test)
	values := out.Values
	if p.task == model.Multiclass {
		values = out.Probs
	}
	d.Test = report.Predictions{Y: y, Pred: values}
	warn := func(part string, err error) {
		d.Warnings = append(d.Warnings, fmt.Sprintf("report: %s: %v", part, err))
		o.Logger.Warn("analysis part failed", "part", part, "err", err)
	}

	var segments []string
	if cfg.SegmentColumn != "" {
		if col, ok := xtest.Lookup(cfg.SegmentColumn); ok {
			segments = labels(col)
		}
	}
	k := len(p.classes)
	if p.task == model.Regression {
		errorAnalysis(d, xtest, y, values, segments, o.TopErrors, warn)
		// A row's place among the test rows cannot be found in the file:
		// name its data row, counted as --test-rows files count them.
		for i, e := range d.TopErrors {
			if e.Row >= 0 && e.Row < len(p.test) && p.test[e.Row] < len(p.kept) {
				d.TopErrors[i].Row = p.kept[p.test[e.Row]]
			}
		}
	} else if cal, err := eval.Calibration(y, values, k, 10); err == nil {
		d.Calibration = cal
	} else {
		warn("calibration", err)
	}

	t0 := time.Now()
	top := explainRun(ctx, cfg, pred, xtest, d, warn)
	o.Logger.Debug("report part", "part", "shap", "seconds", since(t0))
	if err := ctx.Err(); err != nil {
		return err
	}
	pdp := o.PartialDependence
	if pdp == nil {
		pdp = rawPDP(ctx, pred, xtest, cfg.Seed)
	}
	pdpFeatures := checkRules(cfg, p.task, k, a, y, values, segments, xtest, pdp)
	o.Logger.Debug("report part", "part", "rules", "seconds", since(t0))
	if err := partialDependence(ctx, pred, xtest, pdpFeatures, top, o.PartialDependence, cfg.Seed, d); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		warn("partial dependence", err)
	}

	o.Logger.Debug("report part", "part", "pdp", "seconds", since(t0))
	return refitAnalyses(ctx, cfg, res, p, d, o.Families, warn)
}

// refitAnalyses fits models again for the report's learning curves and
// bias-variance decomposition, when the config asks for them.
func refitAnalyses(ctx context.Context, cfg *config.Config, res *Result, p *prepared, d *report.Data, reg *model.Registry, warn func(string, error)) error {
	if !cfg.ReportCurves && cfg.BiasVarianceRounds <= 0 {
		return nil
	}
	best, ok := bestSingle(res, reg)
	if !ok {
		warn("learning curves", fmt.Errorf("no single model family on the leaderboard to fit"))
		return nil
	}
	if cfg.ReportCurves {
		if err := curves(ctx, cfg, reg, variantData(cfg, p, best), familyOf(best), d); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			warn("learning curves", err)
		}
		if best != res.Best {
			d.Warnings = append(d.Warnings, fmt.Sprintf("report: curves are of %s, the best single model family (the best model %s is an ensemble)", best, res.Best))
		}
	}
	if cfg.BiasVarianceRounds > 0 {
		for _, e := range res.Leaderboard {
			if e.Error != "" || !isFamily(e.Model, reg) {
				continue
			}
			r, err := familyBiasVariance(ctx, cfg, reg, variantData(cfg, p, e.Model), familyOf(e.Model))
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				warn("bias-variance "+e.Model, err)
				continue
			}
			d.BiasVariance = append(d.BiasVariance, report.FamilyBiasVariance{Family: e.Model, Result: r})
		}
	}
	return nil
}

// checkRules checks the config's business rules on the test predictions
// and returns the features whose partial dependence a monotonic rule
// needs.
func checkRules(cfg *config.Config, task model.Task, classes int, a *Analysis, y, values []float64, segments []string, xtest *frame.Frame, pdp func(string, []float64) ([]float64, error)) []string {
	var pdpFeatures []string
	if len(cfg.BusinessRules) > 0 {
		in := eval.RuleInput{Y: y, Pred: values, Segments: segments, PartialDependence: pdp,
			Feature: func(name string) ([]float64, bool) {
				c, ok := xtest.Lookup(name)
				if !ok || c.Kind == frame.Categorical {
					return nil, false
				}
				return c.Num, true
			}}
		if task.IsClassification() {
			in.Classes = classes
		}
		a.Rules = eval.CheckRules(rulesOf(cfg.BusinessRules), in)
		a.Data.Rules = a.Rules
		for _, r := range cfg.BusinessRules {
			if r.Kind == config.RuleMonotonic && task != model.Multiclass {
				pdpFeatures = append(pdpFeatures, r.Feature)
			}
		}
	}
	return pdpFeatures
}

// familyOf strips the advanced-variant suffix from a leaderboard name.
func familyOf(label string) string { return strings.TrimSuffix(label, AdvancedSuffix) }

// isFamily reports whether a leaderboard name is a single model family
// (possibly the advanced variant), not an ensemble.
func isFamily(label string, reg *model.Registry) bool {
	_, err := reg.Lookup(familyOf(label))
	return err == nil
}

// bestSingle returns the best leaderboard entry that is a single model
// family: res.Best itself unless that is an ensemble.
func bestSingle(res *Result, reg *model.Registry) (string, bool) {
	if isFamily(res.Best, reg) {
		return res.Best, true
	}
	for _, e := range res.Leaderboard { // ranked best first
		if e.Error == "" && isFamily(e.Model, reg) {
			return e.Model, true
		}
	}
	return "", false
}

// variantData returns p with the feature chain the leaderboard entry
// label was trained with: the advanced chain for "+adv" entries and for
// plain ones when the basic variant did not compete, none otherwise.
func variantData(cfg *config.Config, p *prepared, label string) *prepared {
	q := *p
	if !strings.HasSuffix(label, AdvancedSuffix) && cfg.CompareBasicFeatures {
		q.chain = nil
	}
	return &q
}

// describeSplit is the run's holdout split and, when there was one, its
// cross-validation scheme.
func describeSplit(res *Result) string {
	if res.CV == "" {
		return res.Split
	}
	return res.Split + "; CV " + res.CV
}

// ReportData copies what a Result holds into report data; Analyze adds
// the rest.
func ReportData(res *Result) *report.Data {
	d := &report.Data{RunID: res.RunID, Task: string(res.Task), Target: res.Target, DatasetHash: res.DatasetHash,
		Split: describeSplit(res), TrainRows: res.TrainRows, TestRows: res.TestRows, Metric: res.Metric, Best: res.Best,
		Deployable: res.Deployable, ModelPath: res.ModelPath, Classes: res.Classes,
		Fallbacks: res.Fallbacks, Warnings: append([]string(nil), res.Warnings...), Timings: res.Timings, RankedFolds: res.RankedFolds}
	for _, e := range res.Leaderboard {
		d.Leaderboard = append(d.Leaderboard, report.Entry{Model: e.Model, Params: e.Params, CV: e.CV, CVStd: e.CVStd, CVFolds: e.CVFolds, CVUndefined: e.CVUndefined, CVRanked: e.CVRanked, Test: e.Test, FitSeconds: e.FitSeconds, Error: e.Error})
	}
	for _, s := range res.Segments {
		d.Segments = append(d.Segments, report.Segment{Segment: s.Segment, Rows: s.Rows, Test: s.Test})
	}
	d.SegmentModels = res.SegmentModels
	d.Gates = append(d.Gates, res.Gates...)
	if c := res.Cache; c != nil {
		d.Cache = &report.Cache{Hits: c.Hits, Misses: c.Misses}
	}
	d.Meta = metaReport(res)
	return d
}

// WriteReport analyses a finished run and writes its report into dir
// ("" means <cfg.Out>/<run id>/report): report.html, report.json and the
// PNG charts. It returns the analysis (for rule gates) and the directory.
// A failed analysis (a moved dataset or model) still writes the report,
// from res alone, and is reported in Analysis.Err and the page's
// warnings, unless o.Strict; the error return is for a report that was
// not written.
func WriteReport(ctx context.Context, cfg *config.Config, res *Result, dir string, o AnalysisOptions) (*Analysis, string, error) {
	if dir == "" {
		dir = filepath.Join(cfg.Out, res.RunID, "report")
	}
	a, err := Analyze(ctx, cfg, res, o)
	if err != nil {
		if ctx.Err() != nil || o.Strict {
			return a, dir, err
		}
		a.Err = err
		a.Data.Warnings = append(a.Data.Warnings, "report: "+err.Error())
	}
	if _, err := report.Write(ctx, dir, a.Data); err != nil {
		return a, dir, err
	}
	return a, dir, nil
}

func rulesOf(rs []config.BusinessRule) []eval.Rule {
	out := make([]eval.Rule, len(rs))
	for i, r := range rs {
		out[i] = eval.Rule{Name: r.Name, Kind: eval.RuleKind(r.Kind), Feature: r.Feature, Min: r.Min, Max: r.Max,
			Direction: r.Direction, Threshold: r.Threshold, Tolerance: r.Tolerance, MinRows: r.MinRows, Gate: r.Gate}
	}
	return out
}

// labels returns a column's values as text, "(missing)" for missing ones,
// as segmentMetrics names segments.
func labels(c *frame.Column) []string {
	out := make([]string, c.Len())
	for i := range out {
		switch {
		case c.IsMissing(i):
			out[i] = "(missing)"
		case c.Kind == frame.Categorical:
			out[i] = c.Label(i)
		default:
			out[i] = strconv.FormatFloat(c.Num[i], 'g', -1, 64)
		}
	}
	return out
}

// errorAnalysis fills the largest errors, residuals by segment and
// residuals by quantile bins of the four numeric inputs most correlated
// with the absolute error.
func errorAnalysis(d *report.Data, x *frame.Frame, y, pred []float64, segments []string, top int, warn func(string, error)) {
	var err error
	if d.TopErrors, err = eval.TopErrors(y, pred, segments, top); err != nil {
		warn("largest errors", err)
	}
	if segments != nil {
		if d.SegmentResiduals, err = eval.ResidualsBySegment(segments, y, pred); err != nil {
			warn("residuals by segment", err)
		}
	}
	absErr := make([]float64, len(y))
	for i := range y {
		absErr[i] = math.Abs(y[i] - pred[i])
	}
	type scored struct {
		col   *frame.Column
		score float64
	}
	var cols []scored
	for _, c := range x.Columns() {
		if c.Kind == frame.Categorical {
			continue
		}
		if r := math.Abs(correlation(c.Num, absErr)); !math.IsNaN(r) {
			cols = append(cols, scored{c, r})
		}
	}
	sort.SliceStable(cols, func(i, j int) bool { return cols[i].score > cols[j].score })
	for _, c := range cols[:min(4, len(cols))] {
		bins, err := eval.ResidualsByBins(c.col.Num, y, pred, 8)
		if err != nil {
			warn("residuals by "+c.col.Name, err)
			continue
		}
		d.ResidualBins = append(d.ResidualBins, report.FeatureResiduals{Feature: c.col.Name, Bins: bins, Datetime: c.col.Kind == frame.Datetime})
	}
}

// correlation is Pearson's r over the rows where x is not NaN.
func correlation(x, y []float64) float64 {
	var n, sx, sy, sxx, syy, sxy float64
	for i, v := range x {
		if math.IsNaN(v) {
			continue
		}
		n++
		sx += v
		sy += y[i]
		sxx += v * v
		syy += y[i] * y[i]
		sxy += v * y[i]
	}
	if n < 3 {
		return math.NaN()
	}
	cov := sxy/n - sx/n*sy/n
	vx, vy := sxx/n-sx/n*sx/n, syy/n-sy/n*sy/n
	if vx <= 0 || vy <= 0 {
		return math.NaN()
	}
	return cov / math.Sqrt(vx*vy)
}

// matrices fits the preprocessing of family name on the rows train and
// returns the design matrices of train and eval, as runCandidate sees
// them.
func matrices(ctx context.Context, fam model.Family, p *prepared, train, evalRows []int) (*model.Dataset, *model.Dataset, error) {
	xtr, xev, _, err := p.applyChain(ctx, train, evalRows)
	if err != nil {
		return nil, nil, err
	}
	spec := designSpec(fam, len(p.train))
	design, err := features.FitDesign(ctx, xtr, spec)
	if err != nil {
		return nil, nil, fmt.Errorf("preprocessing: %w", err)
	}
	dtr, err := dataset(design, xtr, split.Take(p.y, train), p)
	if err != nil {
		return nil, nil, err
	}
	dev, err := dataset(design, xev, split.Take(p.y, evalRows), p)
	if err != nil {
		return nil, nil, err
	}
	return dtr, dev, nil
}

// learner builds family name's learner with its configured parameters,
// optionally overriding one.
func learner(cfg *config.Config, reg *model.Registry, p *prepared, name string, override map[string]any) (model.Family, model.Learner, error) {
	fam, err := reg.Lookup(name)
	if err != nil {
		return fam, nil, err
	}
	params := map[string]any{}
	maps.Copy(params, familyParams(cfg, name, p.task, len(p.train)))
	for k, v := range override {
		params[k] = v
	}
	var raw json.RawMessage
	if len(params) > 0 {
		if raw, err = json.Marshal(params); err != nil {
			return fam, nil, err
		}
	}
	l, err := fam.New(p.task, cfg.Seed, raw)
	return fam, l, err
}

func familyBiasVariance(ctx context.Context, cfg *config.Config, reg *model.Registry, p *prepared, name string) (*eval.BiasVarianceResult, error) {
	fam, l, err := learner(cfg, reg, p, name, nil)
	if err != nil {
		return nil, err
	}
	dtr, dte, err := matrices(ctx, fam, p, p.train, p.test)
	if err != nil {
		return nil, err
	}
	return eval.BiasVariance(ctx, l, dtr, dte, eval.BiasVarianceOptions{Rounds: cfg.BiasVarianceRounds, Seed: cfg.Seed, Workers: cfg.Workers})
}

// complexity names each family's complexity parameter and the values a
// validation curve tries.
var complexity = map[string]struct {
	param  string
	values []float64
}{
	"tree":        {"max_depth", []float64{1, 2, 3, 4, 6, 8, 12}},
	"forest":      {"max_depth", []float64{2, 4, 6, 8, 12}},
	"extra_trees": {"max_depth", []float64{2, 4, 6, 8, 12}},
	"gbdt":        {"max_depth", []float64{1, 2, 3, 4, 6, 8}},
	"ridge":       {"alpha", []float64{0.01, 0.1, 1, 10, 100}},
	"logistic":    {"c", []float64{0.01, 0.1, 1, 10, 100}},
}

// curves fills the learning and validation curves of family name,
// scored on a seeded 20% validation part of the training rows (never the
// test rows).
func curves(ctx context.Context, cfg *config.Config, reg *model.Registry, p *prepared, name string, d *report.Data) error {
	if len(p.train) < 20 {
		return nil
	}
	h, err := split.Random(len(p.train), 0.2, cfg.Seed)
	if err != nil {
		return err
	}
	tr, va := split.Take(p.train, h.Train), split.Take(p.train, h.Test)
	fam, l, err := learner(cfg, reg, p, name, nil)
	if err != nil {
		return err
	}
	dtr, dva, err := matrices(ctx, fam, p, tr, va)
	if err != nil {
		return err
	}
	o := eval.CurveOptions{Seed: cfg.Seed, Workers: cfg.Workers}
	lc, err := eval.LearningCurve(ctx, l, dtr, dva, []float64{0.1, 0.25, 0.5, 0.75, 1}, o)
	if err != nil {
		return err
	}
	d.LearningCurve, d.LearningFamily = lc, name
	cx, ok := complexity[name]
	if !ok {
		return nil
	}
	vc, err := eval.ValidationCurve(ctx, func(v float64) (model.Learner, error) {
		var pv any = v
		if cx.param == "max_depth" {
			pv = int(v)
		}
		_, l, err := learner(cfg, reg, p, name, map[string]any{cx.param: pv})
		return l, err
	}, cx.values, dtr, dva, o)
	if err != nil {
		return err
	}
	d.ValidationCurve = &report.ValidationCurve{Family: name, Param: cx.param, Points: vc}
	return nil
}
