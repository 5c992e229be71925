package eval

import (
	"math"
)

// weightedMean returns Σ w_i f(i) / Σ w_i over n rows.
func weightedMean(n int, w []float64, f func(i int) float64) float64 {
	var sum, wsum float64
	for i := range n {
		wi := weight(w, i)
		sum += wi * f(i)
		wsum += wi
	}
	return sum / wsum
}

// overflowScale returns the power of two that the values of y and pred are
// divided by before squared errors are summed: 1, which changes nothing,
// unless their largest magnitude lies outside [2^-480, 2^480], where
// squares summed over many rows could overflow to +Inf (targets near
// 1e300 gave metrics of NaN) or underflow to 0 (an R² of 1 for any fit
// of values near 1e-300). A power of two divides exactly, so scaled
// metrics lose nothing but the underflow of values 2^1000 times smaller
// than the largest.
func overflowScale(y, pred []float64) float64 {
	var top float64
	for i := range y {
		top = max(top, math.Abs(y[i]), math.Abs(pred[i]))
	}
	if top == 0 || (top >= 0x1p-480 && top <= 0x1p480) {
		return 1
	}
	_, exp := math.Frexp(top)
	return math.Ldexp(1, exp)
}

// R2 returns the coefficient of determination 1 - SS_res/SS_tot, weighted
// by w (nil for unweighted), as sklearn.metrics.r2_score. When y is constant
// (SS_tot = 0) it returns 1 if the predictions are perfect and 0 otherwise,
// as r2_score does by default (force_finite=True); with a single row it
// returns NaN, as r2_score does.
func R2(y, pred, w []float64) (float64, error) {
	if err := checkPair(y, pred, w); err != nil {
		return math.NaN(), err
	}
	if len(y) < 2 {
		return math.NaN(), nil
	}
	s := overflowScale(y, pred)
	mean := weightedMean(len(y), w, func(i int) float64 { return y[i] / s })
	var res, tot float64
	for i := range y {
		wi := weight(w, i)
		d := y[i]/s - pred[i]/s
		res += wi * d * d
		m := y[i]/s - mean
		tot += wi * m * m
	}
	if tot == 0 {
		if res == 0 {
			return 1, nil
		}
		return 0, nil
	}
	return 1 - res/tot, nil
}

// RMSE returns the root of the (weighted) mean squared error.
func RMSE(y, pred, w []float64) (float64, error) {
	if err := checkPair(y, pred, w); err != nil {
		return math.NaN(), err
	}
	s := overflowScale(y, pred)
	return s * math.Sqrt(weightedMean(len(y), w, func(i int) float64 {
		d := y[i]/s - pred[i]/s
		return d * d
	})), nil
}

// MAE returns the (weighted) mean absolute error.
func MAE(y, pred, w []float64) (float64, error) {
	if err := checkPair(y, pred, w); err != nil {
		return math.NaN(), err
	}
	s := overflowScale(y, pred)
	return s * weightedMean(len(y), w, func(i int) float64 { return math.Abs(y[i]/s - pred[i]/s) }), nil
}

// mapeEps is the floor of |y| in MAPE's denominator: numpy's float64 machine
// epsilon, as in sklearn.metrics.mean_absolute_percentage_error.
const mapeEps = 2.220446049250313e-16

// MAPE returns the (weighted) mean absolute percentage error as a fraction
// (0.1 means 10%): the mean of |y-pred| / max(|y|, eps) with eps =
// 2.22e-16, as sklearn.metrics.mean_absolute_percentage_error, when no
// row of positive weight has y = 0. With one it returns NaN, undefined,
// as mlr3's regr.mape does: a zero target has no percentage error, and
// sklearn's eps made such a row's error |pred|·4.5e15, a MAPE in the
// quadrillions that read as a model's failure rather than the metric's
// (Ames's Mas_Vnr_Area, 60% zeros: 1.97e15). Leaving those rows out
// would make MAPE a metric of other rows than the rest, changing with
// how many zeros a fold or a day happens to hold; MAE and within20
// cover them.
func MAPE(y, pred, w []float64) (float64, error) {
	if err := checkPair(y, pred, w); err != nil {
		return math.NaN(), err
	}
	for i, v := range y {
		if v == 0 && weight(w, i) != 0 {
			return math.NaN(), nil
		}
	}
	return weightedMean(len(y), w, func(i int) float64 {
		return math.Abs(y[i]-pred[i]) / math.Max(math.Abs(y[i]), mapeEps)
	}), nil
}

// WithinPct returns the (weighted) percentage, 0 to 100, of rows whose
// prediction is within tol relative error: |pred-y| <= tol·|y|. With tol =
// 0.2 this is the "business accuracy" within20 of the baselines protocol. A
// row with y = 0 counts only if its prediction is exactly 0. It returns an
// error if tol is negative or not finite.
func WithinPct(y, pred []float64, tol float64, w []float64) (float64, error) {
	if err := checkPair(y, pred, w); err != nil {
		return math.NaN(), err
	}
	if !(tol >= 0) || math.IsInf(tol, 0) {
		return math.NaN(), errInvalidTol(tol)
	}
	return 100 * weightedMean(len(y), w, func(i int) float64 {
		if math.Abs(pred[i]-y[i]) <= tol*math.Abs(y[i]) {
			return 1
		}
		return 0
	}), nil
}
