package explain

import (
	"fmt"
	"math"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/linear"
)

// LinearSHAP returns the exact SHAP values of a package linear model under
// feature independence: φ_kj = coef_kj · (x_j − mean_j) with the training
// means the model recorded, and BaseValue_k = intercept_k + coef_k · mean.
// OLS and ridge are explained in prediction space; logistic models in
// margin space (the log-odds of class 1, or each class's score for
// multiclass), where they are linear. Other models give ErrUnsupported,
// a NaN or infinite value in x an error.
func LinearSHAP(m model.Model, x *model.Matrix, names []string) (*Values, error) {
	if lp, ok := m.(linearPart); ok {
		// A trend target adds a linear term to the prediction, explained
		// exactly beside the inner model's; checked before unwrapper, which
		// a trend model also is, so that the trend is not left out.
		v, err := LinearSHAP(lp.Unwrap(), x, names)
		if err != nil {
			return nil, err
		}
		return v, addTrend(v, x, lp)
	}
	if u, ok := m.(unwrapper); ok {
		v, err := LinearSHAP(u.Unwrap(), x, names)
		if err == nil {
			v.Output = OutputMargin
		}
		return v, err
	}
	lm, ok := m.(*linear.Model)
	if !ok {
		return nil, fmt.Errorf("%w: linear SHAP explains ols, ridge and logistic models, not %s", ErrUnsupported, m.Family())
	}
	p := lm.NumFeatures()
	if x == nil || x.Cols != p || len(x.Data) != x.Rows*x.Cols {
		return nil, fmt.Errorf("explain: linear: matrix has %d columns, the model has %d features", colsOf(x), p)
	}
	coef, icpt, mean := lm.Coef(), lm.Intercept(), lm.Means()
	k := len(icpt)
	out := OutputPrediction
	if lm.Task().IsClassification() {
		out = OutputMargin
	}
	v := newValues(MethodLinear, out, x.Rows, k, p, names)
	v.Exact, v.Tolerance = true, 1e-12
	for c := range k {
		v.BaseValue[c] = icpt[c] + dot(coef[c*p:(c+1)*p], mean)
	}
	for r := range x.Rows {
		row := x.Row(r)
		for j, xv := range row {
			if math.IsNaN(xv) || math.IsInf(xv, 0) {
				return nil, fmt.Errorf("explain: linear: row %d feature %d is %v: impute missing values first", r, j, xv)
			}
		}
		for c := range k {
			phi := v.Row(r, c)
			cc := coef[c*p : (c+1)*p]
			for j, xv := range row {
				phi[j] = cc[j] * (xv - mean[j])
			}
		}
	}
	return v, nil
}

// LinearMargin writes the margins intercept + coef·x of a package linear
// model for the rows of x into dst (x.Rows × classes rows of
// coefficients): the quantity LinearSHAP decomposes.
func LinearMargin(m *linear.Model, dst []float64, x *model.Matrix) {
	coef, icpt := m.Coef(), m.Intercept()
	k, p := len(icpt), m.NumFeatures()
	for r := range x.Rows {
		for c := range k {
			dst[r*k+c] = icpt[c] + dot(coef[c*p:(c+1)*p], x.Row(r))
		}
	}
}

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

// addTrend adds lp's linear term to v, the inner model's values on x: its
// intercept to the base value, coef·(x_j − mean_j) to feature j's value
// (0 for a missing time value, which the trend reads as the mean).
func addTrend(v *Values, x *model.Matrix, lp linearPart) error {
	index, coef, mean, intercept := lp.LinearTerm()
	for j, f := range index {
		if f < 0 || f >= x.Cols {
			return fmt.Errorf("explain: linear term on feature %d of %d", f, x.Cols)
		}
		term := linearTerm{feature: f, coef: coef[j], mean: mean[j]}
		for r := range x.Rows {
			for k := range v.Outputs {
				v.Row(r, k)[f] += term.phi(x.Row(r))
			}
		}
	}
	for k := range v.Outputs {
		v.BaseValue[k] += intercept
	}
	return nil
}
