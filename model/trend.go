package model

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// TargetTrend is the trend transform: the model fits y minus a linear
// trend in the time features (TrendFeaturesKey), fitted by least squares
// on the training rows, and predicts the trend plus its fit. Trees and
// boosting predict within the range of the targets they saw, so on a
// series whose level keeps rising (prices, sales) they forecast the last
// level they were trained on; with the trend removed they learn the
// deviations, and the trend carries the level forward.
const TargetTrend = "trend"

// TrendFeaturesKey names the design columns (features) that hold time, for
// TargetTrend: e.g. ["year", "month"], or a datetime column's
// ["date_year", "date_month"].
const TrendFeaturesKey = "trend_features"

// trendMagic starts an encoded trend-target model; no family's own
// encoding starts with it.
var trendMagic = []byte("tftrendtarget1\x00")

// TrendLearner fits Inner on y minus a linear trend in the features named
// Features.
type TrendLearner struct {
	Inner    Learner
	Features []string
}

// MarshalJSON names the transform and its features beside the inner
// learner's parameters, so cache keys of raw and detrended fits differ.
func (l *TrendLearner) MarshalJSON() ([]byte, error) {
	return wrapperJSON(TargetTrend, l.Features, l.Inner)
}

// Fit fits the trend by weighted least squares on the training rows,
// then Inner on the residuals.
func (l *TrendLearner) Fit(ctx context.Context, d *Dataset, o FitOptions) (Model, error) {
	if d.Task != Regression {
		return nil, fmt.Errorf("%s %s applies to regression only (task is %s)", TargetTransformKey, TargetTrend, d.Task)
	}
	idx, err := trendIndex(l.Features, d.FeatureNames)
	if err != nil {
		return nil, err
	}
	t, err := fitTrend(d, idx)
	if err != nil {
		return nil, err
	}
	rd := *d
	rd.Y = make([]float64, len(d.Y))
	for r, y := range d.Y {
		rd.Y[r] = y - t.at(d.X.Row(r))
	}
	m, err := l.Inner.Fit(ctx, &rd, o)
	if err != nil {
		return nil, err
	}
	t.Inner = m
	return t, nil
}

// trendIndex finds each named time feature among the design's columns.
func trendIndex(want, names []string) ([]int, error) {
	if len(want) == 0 {
		return nil, fmt.Errorf("%s %s needs %s", TargetTransformKey, TargetTrend, TrendFeaturesKey)
	}
	idx := make([]int, len(want))
	for i, w := range want {
		if idx[i] = slices.Index(names, w); idx[i] < 0 {
			return nil, fmt.Errorf("%s %s: time feature %q is not among the model's %d features", TargetTransformKey, TargetTrend, w, len(names))
		}
	}
	return idx, nil
}

// fitTrend solves the weighted least squares of y on the centred time
// features. A feature constant over the training rows gets coefficient 0
// (it says nothing about a trend), and so does every one when the time
// does not vary at all.
func fitTrend(d *Dataset, idx []int) (*TrendModel, error) {
	n := d.X.Rows
	t := &TrendModel{Index: idx, Mean: make([]float64, len(idx)), Coef: make([]float64, len(idx))}
	var wsum, ysum float64
	for r := range n {
		w := weightAt(d.Weights, r)
		row := d.X.Row(r)
		for j, c := range idx {
			if v := row[c]; math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s %s: row %d: time feature %d is %v", TargetTransformKey, TargetTrend, r, c, v)
			}
			t.Mean[j] += w * row[c]
		}
		if math.IsNaN(d.Y[r]) || math.IsInf(d.Y[r], 0) {
			return nil, fmt.Errorf("%s %s: row %d: target is %v", TargetTransformKey, TargetTrend, r, d.Y[r])
		}
		wsum += w
		ysum += w * d.Y[r]
	}
	if !(wsum > 0) {
		return nil, errors.New("trend: no training weight")
	}
	for j := range t.Mean {
		t.Mean[j] /= wsum
	}
	t.Intercept = ysum / wsum
	var varying []int // positions into idx
	for j, c := range idx {
		for r := range n {
			if d.X.At(r, c) != t.Mean[j] {
				varying = append(varying, j)
				break
			}
		}
	}
	if len(varying) == 0 {
		return t, nil
	}
	// Rows scaled by √w make the ordinary QR least squares the weighted one.
	a := mat.NewDense(n, len(varying), nil)
	b := mat.NewVecDense(n, nil)
	for r := range n {
		sw := math.Sqrt(weightAt(d.Weights, r))
		for k, j := range varying {
			a.Set(r, k, sw*(d.X.At(r, idx[j])-t.Mean[j]))
		}
		b.SetVec(r, sw*(d.Y[r]-t.Intercept))
	}
	var coef mat.VecDense
	if err := coef.SolveVec(a, b); err != nil {
		return nil, fmt.Errorf("trend: least squares: %w", err)
	}
	for k, j := range varying {
		if c := coef.AtVec(k); !math.IsNaN(c) && !math.IsInf(c, 0) {
			t.Coef[j] = c
		}
	}
	return t, nil
}

func weightAt(w []float64, r int) float64 {
	if w == nil {
		return 1
	}
	return w[r]
}

// TrendModel predicts Intercept + Σ Coef_j·(x[Index_j] − Mean_j) plus
// Inner's prediction of the deviation from that trend.
type TrendModel struct {
	Inner     Model
	Index     []int     // design columns of the time features
	Mean      []float64 // their training means
	Coef      []float64
	Intercept float64 // the trend at the mean time: the target's training mean
}

// at is the trend at a row of the design. A missing time value counts
// as the training mean, so it adds nothing to the level.
func (m *TrendModel) at(row []float64) float64 {
	v := m.Intercept
	for j, c := range m.Index {
		if x := row[c]; !math.IsNaN(x) {
			v += m.Coef[j] * (x - m.Mean[j])
		}
	}
	return v
}

// Family is the inner model's family.
func (m *TrendModel) Family() string { return m.Inner.Family() }

// NumOutputs is 1: the transform is for regression.
func (m *TrendModel) NumOutputs() int { return 1 }

// Predict writes the trend plus the inner model's prediction. A missing
// (NaN) time value counts as the training mean; an infinite one is an
// error, as it is in training: it would make the trend infinite, or NaN
// where the coefficient is 0.
func (m *TrendModel) Predict(dst []float64, x *Matrix) error {
	if err := m.Inner.Predict(dst, x); err != nil {
		return err
	}
	for _, c := range m.Index {
		if c >= x.Cols {
			return fmt.Errorf("trend: time feature %d of a %d-column matrix", c, x.Cols)
		}
	}
	for r := range x.Rows {
		row := x.Row(r)
		for _, c := range m.Index {
			if math.IsInf(row[c], 0) {
				return fmt.Errorf("trend: predict: row %d: time feature %d is %v", r, c, row[c])
			}
		}
		dst[r] += m.at(row)
	}
	return nil
}

// TrendCoefKey names, in a TrendModel's Params, the coefficients of its
// fitted trend: what the model learnt, not a parameter a learner takes.
const TrendCoefKey = "trend_coef"

// Params are the inner model's with the transform and the trend named.
func (m *TrendModel) Params() map[string]any {
	p := transformedParams(m.Inner, TargetTrend)
	p[TrendCoefKey] = m.Coef
	return p
}

// Unwrap returns the model of the deviations from the trend.
func (m *TrendModel) Unwrap() Model { return m.Inner }

// LinearTerm is the trend as an additive term of the prediction, for
// explanations: the prediction is the inner model's plus Intercept +
// Σ Coef_j·(x[Index_j] − Mean_j).
func (m *TrendModel) LinearTerm() (index []int, coef, mean []float64, intercept float64) {
	return m.Index, m.Coef, m.Mean, m.Intercept
}

// trendHeader is the trend's part of the encoding.
type trendHeader struct {
	Index     []int     `json:"index"`
	Mean      []float64 `json:"mean"`
	Coef      []float64 `json:"coef"`
	Intercept float64   `json:"intercept"`
}

// MarshalBinary prefixes the inner encoding with the transform and the
// trend (a length-prefixed JSON header).
func (m *TrendModel) MarshalBinary() ([]byte, error) {
	inner, err := m.Inner.MarshalBinary()
	if err != nil {
		return nil, err
	}
	h, err := json.Marshal(trendHeader{Index: m.Index, Mean: m.Mean, Coef: m.Coef, Intercept: m.Intercept})
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(trendMagic)+4+len(h)+len(inner))
	out = append(out, trendMagic...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(h)))
	out = append(out, h...)
	return append(out, inner...), nil
}

// decodeTrend reads a TrendModel encoding (after its magic), the inner
// model through decode.
func decodeTrend(data []byte, decode func([]byte) (Model, error)) (Model, error) {
	if len(data) < 4 {
		return nil, errors.New("trend-target model: truncated")
	}
	n := binary.LittleEndian.Uint32(data)
	if uint64(n) > uint64(len(data)-4) {
		return nil, fmt.Errorf("trend-target model: header of %d bytes in %d", n, len(data)-4)
	}
	var h trendHeader
	if err := json.NewDecoder(bytes.NewReader(data[4 : 4+n])).Decode(&h); err != nil {
		return nil, fmt.Errorf("trend-target model: %w", err)
	}
	if len(h.Index) == 0 || len(h.Mean) != len(h.Index) || len(h.Coef) != len(h.Index) {
		return nil, fmt.Errorf("trend-target model: %d time features, %d means, %d coefficients", len(h.Index), len(h.Mean), len(h.Coef))
	}
	for j, c := range h.Index {
		if c < 0 || math.IsNaN(h.Mean[j]) || math.IsInf(h.Mean[j], 0) || math.IsNaN(h.Coef[j]) || math.IsInf(h.Coef[j], 0) {
			return nil, fmt.Errorf("trend-target model: bad time feature %d (mean %v, coefficient %v)", c, h.Mean[j], h.Coef[j])
		}
	}
	if math.IsNaN(h.Intercept) || math.IsInf(h.Intercept, 0) {
		return nil, fmt.Errorf("trend-target model: intercept %v", h.Intercept)
	}
	m, err := decode(data[4+n:])
	if err != nil {
		return nil, err
	}
	if k := m.NumOutputs(); k != 1 {
		// A classifier's encoding after a trend header (a file pieced
		// together): its k outputs a row are no deviation from a trend.
		return nil, fmt.Errorf("trend-target model: the inner %s model has %d outputs a row; the trend is for regression (1)", m.Family(), k)
	}
	return &TrendModel{Inner: m, Index: h.Index, Mean: h.Mean, Coef: h.Coef, Intercept: h.Intercept}, nil
}
