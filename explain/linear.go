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
	v.Exact = true
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
	margins := make([]float64, x.Rows*k)
	LinearMargin(lm, margins, x)
	v.Tolerance = linearTolerance(1e-12, coef, icpt, x, absOf(mean), margins, 1, p+2)
	return v, nil
}

// linearTolerance is the local-accuracy tolerance values of linear
// margins can state: at least floor, and the rounding bound of the sums
// involved. A row's values coef_j·(x_j − ref_j) and its margin
// intercept + coef·x are sums whose rounding grows with their terms'
// size, not with the margin's: nearly collinear columns (ggplot2's
// midwest has five race percentages summing to 100 within 1e-7) give OLS
// coefficients of 1e7 that cancel to a margin of 15, so exact values
// and the prediction part by 1e-9 of it, and a fixed 1e-12 called them
// wrong (an ensemble with such a member fell back to KernelSHAP). The
// bound is 2·terms·ε·gain·S/max(1, |f|) for each row and output, with
// S = |intercept| + Σ_j |coef_j|·(|x_j| + refAbs_j), refAbs_j the largest
// |reference| of feature j (training mean, background rows), f the
// explained output (outs, rows×outputs), terms the most terms one sum
// adds, and gain the most the link multiplies a margin's error by (1
// for no link). It costs one pass over x.
func linearTolerance(floor float64, coef, icpt []float64, x *model.Matrix, refAbs, outs []float64, gain float64, terms int) float64 {
	k, p := len(icpt), x.Cols
	tol := floor
	for r := range x.Rows {
		row := x.Row(r)
		for c := range k {
			s := math.Abs(icpt[c])
			for j, xv := range row {
				s += math.Abs(coef[c*p+j]) * (math.Abs(xv) + refAbs[j])
			}
			b := 2 * float64(terms) * epsilon * gain * s / math.Max(1, math.Abs(outs[r*k+c]))
			tol = max(tol, b)
		}
	}
	return tol
}

// epsilon is the float64 machine epsilon, 2^-52.
const epsilon = 0x1p-52

// absOf returns |v_j| for each j.
func absOf(v []float64) []float64 {
	out := make([]float64, len(v))
	for j, x := range v {
		out[j] = math.Abs(x)
	}
	return out
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
