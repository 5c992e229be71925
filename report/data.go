// Package report turns the results of a training run into a
// self-contained HTML report and PNG charts.
//
// The input is Data, plain values a run produced (data overview,
// effective configuration, leaderboard with parameters, test predictions,
// importances, explanations, curves, bias–variance, segment metrics,
// business rules, gates, fallbacks, cache counters); the classification
// sections (confusion matrix, ROC and precision–recall curves, threshold
// table) are derived from the test predictions. Write draws
// every chart twice from one description: as inline SVG inside
// report.html, so that the page needs no script library, no font and no
// network to render (it opens offline and prints), and as a PNG file beside
// it (gonum/plot) for slides and tickets. A section whose data is missing
// says "not available" instead of drawing an empty chart.
package report

import (
	"github.com/tabforge/tabforge/eval"
)

// Data is everything a report shows. Every field may be empty; the
// sections it feeds then say "not available".
type Data struct {
	RunID string `json:"run_id"`
	// Title heads the page; "" means "tabforge run RUNID".
	Title string `json:"title,omitempty"`
	// Created is the run's start time as text (RFC 3339).
	Created     string `json:"created,omitempty"`
	Status      string `json:"status,omitempty"`
	Task        string `json:"task,omitempty"`
	Target      string `json:"target,omitempty"`
	DatasetHash string `json:"dataset_hash,omitempty"`
	Split       string `json:"split,omitempty"`
	TrainRows   int    `json:"train_rows,omitempty"`
	TestRows    int    `json:"test_rows,omitempty"`
	// Metric is the metric the leaderboard is ranked by.
	Metric     string   `json:"metric,omitempty"`
	Best       string   `json:"best,omitempty"`
	Deployable bool     `json:"deployable"`
	ModelPath  string   `json:"model_path,omitempty"`
	Classes    []string `json:"classes,omitempty"`
	// Threshold is the binary model's decision threshold: it predicts
	// class 1 when the probability of class 1 exceeds it. 0 means 0.5,
	// the rule of eval.PredictLabels.
	Threshold float64 `json:"threshold,omitempty"`
	// Config is the effective configuration of the run (defaults,
	// profile, file and overrides merged) as YAML.
	Config string `json:"config,omitempty"`
	// Overview describes the data the run trained and tested on.
	Overview *Overview `json:"overview,omitempty"`

	Leaderboard []Entry `json:"leaderboard,omitempty"`
	// RankedFolds are the CV folds (from 1) the leaderboard is ranked on
	// when not every entry was scored on all of them (see Entry.CVRanked).
	RankedFolds []int `json:"ranked_folds,omitempty"`
	// Test holds the best model's predictions on the test rows.
	Test Predictions `json:"test"`

	FeatureImportance []Importance `json:"feature_importance,omitempty"`
	SHAP              *SHAP        `json:"shap,omitempty"`
	PDP               []PDP        `json:"pdp,omitempty"`

	// LearningCurve is the best family's train and validation metrics by
	// training-set size; LearningMetric names the metric plotted ("" means
	// Metric).
	LearningCurve   []eval.CurvePoint `json:"learning_curve,omitempty"`
	LearningFamily  string            `json:"learning_family,omitempty"`
	LearningMetric  string            `json:"learning_metric,omitempty"`
	ValidationCurve *ValidationCurve  `json:"validation_curve,omitempty"`

	BiasVariance []FamilyBiasVariance `json:"bias_variance,omitempty"`

	Segments         []Segment               `json:"segments,omitempty"`
	SegmentModels    *SegmentModels          `json:"segment_models,omitempty"`
	SegmentResiduals []eval.ResidualGroup    `json:"segment_residuals,omitempty"`
	ResidualBins     []FeatureResiduals      `json:"residual_bins,omitempty"`
	TopErrors        []eval.LargeError       `json:"top_errors,omitempty"`
	Calibration      *eval.CalibrationResult `json:"calibration,omitempty"`

	Rules     []eval.RuleResult `json:"rules,omitempty"`
	Gates     []Gate            `json:"gates,omitempty"`
	Fallbacks []string          `json:"fallbacks,omitempty"`
	Warnings  []string          `json:"warnings,omitempty"`
	// Cache counts the memoising cache's hits and misses in the run; nil
	// means the run had no cache.
	Cache *Cache `json:"cache,omitempty"`
	// Meta is what meta-learning did; nil when meta_learning was off.
	Meta    *Meta              `json:"meta,omitempty"`
	Timings map[string]float64 `json:"timings,omitempty"`
}

// Entry is one model's line on the leaderboard.
type Entry struct {
	Model string `json:"model"`
	// Params are the model's parameters as fitted (tuned or configured).
	Params map[string]any `json:"params,omitempty"`
	CV     eval.Metrics   `json:"cv,omitempty"`
	CVStd  eval.Metrics   `json:"cv_std,omitempty"`
	// CVFolds and CVUndefined say on how many of the CV folds each
	// metric was undefined (see eval.Undefined); CV is over the rest.
	CVFolds     int            `json:"cv_folds,omitempty"`
	CVUndefined map[string]int `json:"cv_undefined,omitempty"`
	// CVRanked is the primary metric's mean over Data.RankedFolds.
	CVRanked   *float64     `json:"cv_ranked,omitempty"`
	Test       eval.Metrics `json:"test,omitempty"`
	FitSeconds float64      `json:"fit_seconds"`
	Error      string       `json:"error,omitempty"`
}

// Overview describes a data set: its size, each column's kind and
// missing values, and the target's distribution.
type Overview struct {
	Rows    int              `json:"rows"`
	Columns []ColumnOverview `json:"columns"`
	// Target is the target's distribution: one bin per class for
	// classification, equal-width bins for regression (see TargetBins).
	Target []Bin `json:"target,omitempty"`
}

// ColumnOverview describes one column.
type ColumnOverview struct {
	Name string `json:"name"`
	// Kind is numeric, categorical or datetime.
	Kind    string `json:"kind"`
	Missing int    `json:"missing"`
	// Distinct counts the levels in use of a categorical column (0
	// otherwise).
	Distinct int `json:"distinct,omitempty"`
	// Target marks the target column.
	Target bool `json:"target,omitempty"`
}

// Bin is one bar of a distribution.
type Bin struct {
	Label string `json:"label"`
	Count int    `json:"count"`
}

// TargetBins returns the distribution of a target: for classification
// (classes set, y holding class indices) the count of each class, in
// class order; for regression the counts of y in bins equal-width bins
// labelled by their centres. Non-finite values are left out.
func TargetBins(y []float64, classes []string, bins int) []Bin {
	var labels []string
	var counts []float64
	if len(classes) > 0 {
		labels = classes
		counts = make([]float64, len(classes))
		for _, v := range y {
			if c := int(v); finite(v) && c >= 0 && c < len(classes) {
				counts[c]++
			}
		}
	} else {
		labels, counts = histogram(y, bins)
	}
	out := make([]Bin, len(labels))
	for i := range out {
		out[i] = Bin{Label: labels[i], Count: int(counts[i])}
	}
	return out
}

// Predictions are a model's outputs on labelled rows: values for
// regression, the probability of class 1 for binary tasks, Classes values
// per row for multiclass; Y holds the truth (class indices for
// classification).
type Predictions struct {
	Y    []float64 `json:"y,omitempty"`
	Pred []float64 `json:"pred,omitempty"`
}

// Importance is one feature's importance.
type Importance struct {
	Feature string  `json:"feature"`
	Value   float64 `json:"value"`
}

// SHAP holds per-row SHAP values for the beeswarm and dependence plots:
// Values[i][j] is the contribution of Features[j] to row i's prediction,
// FeatureValues[i][j] that feature's value (NaN if missing or
// categorical).
type SHAP struct {
	// Output names the quantity the values add up to, with the base
	// value ("log-odds of bad", "predicted Sale_Price"); "" means the
	// prediction.
	Output        string      `json:"output,omitempty"`
	Features      []string    `json:"features"`
	Values        [][]float64 `json:"values"`
	FeatureValues [][]float64 `json:"feature_values"`
}

// PDP is a partial dependence curve with optional ICE curves (one per
// sampled row) on the same grid.
type PDP struct {
	Feature string `json:"feature"`
	// Datetime is true when the feature is a datetime column: Grid holds
	// Unix seconds, shown as dates.
	Datetime bool        `json:"datetime,omitempty"`
	Grid     []float64   `json:"grid"`
	Average  []float64   `json:"average,omitempty"`
	ICE      [][]float64 `json:"ice,omitempty"`
	// Classes holds a multiclass model's curves instead of Average and
	// ICE: one per class shown, of the average predicted probability of
	// the class, so that a chart shows where the feature moves
	// probability from and to.
	Classes []ClassPD `json:"classes,omitempty"`
	// OtherClasses is how many of the model's classes Classes leaves out.
	OtherClasses int `json:"other_classes,omitempty"`
}

// ClassPD is the partial dependence of one class's predicted probability.
type ClassPD struct {
	Class   string    `json:"class"`
	Average []float64 `json:"average"`
}

// ValidationCurve is the score of one family over one complexity
// parameter.
type ValidationCurve struct {
	Family string            `json:"family"`
	Param  string            `json:"param"`
	Metric string            `json:"metric,omitempty"`
	Points []eval.CurvePoint `json:"points"`
}

// FamilyBiasVariance is the bias–variance decomposition of one model
// family.
type FamilyBiasVariance struct {
	Family string                   `json:"family"`
	Result *eval.BiasVarianceResult `json:"result"`
}

// Segment holds the best model's test metrics on one segment.
type Segment struct {
	Segment string       `json:"segment"`
	Rows    int          `json:"rows"`
	Test    eval.Metrics `json:"test"`
}

// SegmentModels compares the per-segment models of segment_by with the
// global model on the test rows; nil when the run had no segment_by.
type SegmentModels struct {
	// Column is the segment_by column; Model the leaderboard entry whose
	// family, parameters and feature variant every segment model uses.
	Column  string `json:"column"`
	Model   string `json:"model"`
	MinRows int    `json:"min_rows"`
	// Trained and Fallback count segments with their own model and those
	// left to the global model (too few training rows or a failed fit).
	Trained  int `json:"trained"`
	Fallback int `json:"fallback"`
	// Global and Routed are the test metrics of the global model and of
	// the saved, routed model on all test rows.
	Global   eval.Metrics   `json:"global"`
	Routed   eval.Metrics   `json:"routed"`
	Segments []SegmentModel `json:"segments"`
}

// SegmentModel is one segment's test metrics under the global model and
// under the model the saved artifact routes it to.
type SegmentModel struct {
	Segment   string       `json:"segment"`
	TrainRows int          `json:"train_rows"`
	TestRows  int          `json:"test_rows"`
	OwnModel  bool         `json:"own_model"`
	Note      string       `json:"note,omitempty"`
	Global    eval.Metrics `json:"global"`
	Routed    eval.Metrics `json:"routed"`
}

// FeatureResiduals are the residuals of the best model by quantile bins of
// one feature.
type FeatureResiduals struct {
	Feature string               `json:"feature"`
	Bins    []eval.ResidualGroup `json:"bins"`
	// Datetime is true when the feature is a datetime column: the bins'
	// Lo and Hi are Unix seconds, labelled as dates.
	Datetime bool `json:"datetime,omitempty"`
}

// Gate is one quality gate's outcome.
type Gate = eval.Gate

// Cache counts cache lookups.
type Cache struct {
	Hits   int64 `json:"hits"`
	Misses int64 `json:"misses"`
}

// HitRate is Hits / (Hits + Misses), NaN without lookups.
func (c Cache) HitRate() float64 {
	if c.Hits+c.Misses == 0 {
		return nanValue()
	}
	return float64(c.Hits) / float64(c.Hits+c.Misses)
}
