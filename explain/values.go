package explain

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Method names an explainer.
type Method string

// Methods. MethodAuto picks MethodTree or MethodLinear when the model
// supports it and falls back to MethodKernel otherwise.
const (
	MethodAuto   Method = "auto"
	MethodTree   Method = "tree"
	MethodLinear Method = "linear"
	MethodKernel Method = "kernel"
	MethodLIME   Method = "lime"
	// MethodCombined labels an ensemble's values combined from members
	// explained by different exact methods (TreeSHAP and linear SHAP); it
	// is a result, not a method to ask for.
	MethodCombined Method = "combined"
	// MethodInterventional labels InterventionalSHAP's values, which
	// pipeline.Explain computes for ensembles with classifier or
	// log-target members; it is a result, not a method to ask for.
	MethodInterventional Method = "interventional"
)

// ParseMethod validates a method name; "" means MethodAuto.
func ParseMethod(s string) (Method, error) {
	switch m := Method(s); m {
	case "":
		return MethodAuto, nil
	case MethodAuto, MethodTree, MethodLinear, MethodKernel, MethodLIME:
		return m, nil
	}
	return "", fmt.Errorf("explain: unknown method %q (allowed: auto, tree, linear, kernel, lime)", s)
}

// Output says what quantity SHAP values decompose.
type Output string

// Outputs.
const (
	// OutputPrediction is what Model.Predict returns: the value for
	// regression, class probabilities for classification (package tree
	// and forest classifiers, KernelSHAP).
	OutputPrediction Output = "prediction"
	// OutputMargin is the raw score before the link function: the
	// log-odds of class 1 for binary gbdt and logistic models, one score
	// per class for multiclass ones (XGBoost's pred_contribs convention),
	// and log(1+y) for a regression model fitted on a log target.
	OutputMargin Output = "margin"
)

// Values are SHAP values of Rows rows, each with Outputs outputs (1 for
// regression and binary models, the number of classes for multiclass)
// and Features features. For every row r and output k,
//
//	BaseValue[k] + Σ_j Values[(r*Outputs+k)*Features+j] = f_k(x_r)
//
// to Tolerance relative to max(1, |f_k(x_r)|), where f is the quantity
// Output names. Values is plain data: every field may be read directly.
type Values struct {
	// Method is the explainer that produced the values.
	Method Method `json:"method"`
	// Output is the decomposed quantity.
	Output Output `json:"output"`
	// Exact reports whether the values are exact Shapley values of the
	// explainer's value function (TreeSHAP, linear SHAP, KernelSHAP with
	// every coalition enumerated) rather than a sampled estimate.
	Exact bool `json:"exact"`
	// Tolerance is the stated local-accuracy tolerance (see Values).
	Tolerance float64 `json:"tolerance"`

	Rows     int `json:"rows"`
	Outputs  int `json:"outputs"`
	Features int `json:"features"`
	// FeatureNames names the Features columns (the design matrix's).
	FeatureNames []string `json:"feature_names"`
	// OutputNames names the outputs (class labels) when known.
	OutputNames []string `json:"output_names,omitempty"`
	// Values holds Rows×Outputs×Features values, row-major: row r, output
	// k, feature j at (r*Outputs+k)*Features+j.
	Values []float64 `json:"values"`
	// BaseValue is the expected output, one per output: E[f] over the
	// training distribution the trees' covers record (TreeSHAP), the
	// training means (linear SHAP) or the background set (KernelSHAP).
	BaseValue []float64 `json:"base_value"`
	// RowIndex gives, for each explained row, its index in the data the
	// caller passed (nil means 0..Rows-1).
	RowIndex []int `json:"row_index,omitempty"`
	// X holds the explained rows' feature values (Rows×Features,
	// row-major) for dependence plots; nil when not recorded.
	X []float64 `json:"x,omitempty"`
	// Notes are human-readable remarks, such as a fallback to KernelSHAP.
	Notes []string `json:"notes,omitempty"`
}

// newValues allocates Values for rows×outputs×features.
func newValues(m Method, out Output, rows, outputs, features int, names []string) *Values {
	return &Values{
		Method: m, Output: out, Rows: rows, Outputs: outputs, Features: features,
		FeatureNames: featureNames(names, features),
		Values:       make([]float64, rows*outputs*features),
		BaseValue:    make([]float64, outputs),
	}
}

// featureNames returns names when it has n entries, else f0..f{n-1}.
func featureNames(names []string, n int) []string {
	if len(names) == n {
		return slices.Clone(names)
	}
	out := make([]string, n)
	for j := range out {
		out[j] = fmt.Sprintf("f%d", j)
	}
	return out
}

// Row returns the SHAP values of row r and output k, aliasing v.Values.
func (v *Values) Row(r, k int) []float64 {
	o := (r*v.Outputs + k) * v.Features
	return v.Values[o : o+v.Features]
}

// Sum returns BaseValue[k] + Σ_j φ_j of row r: the output the values
// reconstruct.
func (v *Values) Sum(r, k int) float64 {
	s := v.BaseValue[k]
	for _, p := range v.Row(r, k) {
		s += p
	}
	return s
}

// MeanAbs returns the mean |φ_j| over rows for output k, one value per
// feature: the usual global importance of a SHAP summary.
func (v *Values) MeanAbs(k int) []float64 {
	out := make([]float64, v.Features)
	for r := range v.Rows {
		for j, p := range v.Row(r, k) {
			out[j] += math.Abs(p)
		}
	}
	if v.Rows > 0 {
		for j := range out {
			out[j] /= float64(v.Rows)
		}
	}
	return out
}

// Ranked is a feature and its mean |SHAP|.
type Ranked struct {
	Feature string  `json:"feature"`
	MeanAbs float64 `json:"mean_abs"`
}

// Top returns the n features with the largest mean |φ| for output k, in
// decreasing order (ties by feature order); n <= 0 means all.
func (v *Values) Top(k, n int) []Ranked {
	ma := v.MeanAbs(k)
	idx := make([]int, len(ma))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(ma[b], ma[a]) })
	if n <= 0 || n > len(idx) {
		n = len(idx)
	}
	out := make([]Ranked, n)
	for i := range n {
		out[i] = Ranked{v.FeatureNames[idx[i]], ma[idx[i]]}
	}
	return out
}

// CheckLocalAccuracy returns an error naming the worst row when the values
// of some row and output do not sum to want[r*Outputs+k] within tol
// relative to max(1, |want|). want holds the explained outputs
// (Values.Output) of the rows, row-major.
func (v *Values) CheckLocalAccuracy(want []float64, tol float64) (worst float64, err error) {
	if len(want) != v.Rows*v.Outputs {
		return 0, fmt.Errorf("explain: %d outputs to check, want %d", len(want), v.Rows*v.Outputs)
	}
	for r := range v.Rows {
		for k := range v.Outputs {
			w := want[r*v.Outputs+k]
			d := math.Abs(v.Sum(r, k)-w) / math.Max(1, math.Abs(w))
			if !(d <= tol) {
				return d, fmt.Errorf("explain: row %d output %d: values sum to %v, want %v (relative error %.3g > %.3g)", r, k, v.Sum(r, k), w, d, tol)
			}
			worst = max(worst, d)
		}
	}
	return worst, nil
}
