package model

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"

	"github.com/tabforge/tabforge/internal/formatversion"
)

// TargetTransformKey is the parameter, accepted by every family wrapped
// with WithTargetTransform, that fits a regression model on a transformed
// target: "log", "trend" (with TrendFeaturesKey) or "none" (the default).
const TargetTransformKey = "target_transform"

// TargetLog is the log transform: the model fits log(1+y) and predicts
// the mean on the original scale. It needs y >= 0.
const TargetLog = "log"

// logMagic starts an encoded log-target model; no family's own encoding
// starts with it.
var logMagic = []byte("tflogtarget1\x00")

// WithTargetTransform returns f with the target_transform parameter:
// "log" makes its learners fit log(1+y) and predict back on y's scale;
// "trend" makes them fit y minus a linear trend in the time features
// named by trend_features (see TargetTrend). Log-scale errors are what
// many skewed positive targets (prices, wages, counts) are homoscedastic
// in, so linear models in particular fit them far better there; whether
// either helps a given table is for CV to say.
func WithTargetTransform(f Family) Family {
	inner := f
	f.New = func(task Task, seed uint64, params json.RawMessage) (Learner, error) {
		tp, rest, err := splitTransform(params)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", inner.Name, err)
		}
		l, err := inner.New(task, seed, rest)
		if err != nil || tp.transform == "" || tp.transform == "none" {
			return l, err
		}
		if tp.transform != TargetLog && tp.transform != TargetTrend {
			return nil, fmt.Errorf("%s: %s %q: want %q, %q or \"none\"", inner.Name, TargetTransformKey, tp.transform, TargetLog, TargetTrend)
		}
		if task != Regression {
			return nil, fmt.Errorf("%s: %s %q applies to regression only (task is %s)", inner.Name, TargetTransformKey, tp.transform, task)
		}
		if tp.transform == TargetTrend {
			if len(tp.features) == 0 {
				return nil, fmt.Errorf("%s: %s %q needs %s", inner.Name, TargetTransformKey, TargetTrend, TrendFeaturesKey)
			}
			return &TrendLearner{Inner: l, Features: tp.features}, nil
		}
		return &LogTargetLearner{Inner: l}, nil
	}
	f.Decode = func(data []byte) (Model, error) {
		if err := checkTargetTag(data); err != nil {
			return nil, err
		}
		if bytes.HasPrefix(data, trendMagic) {
			return decodeTrend(data[len(trendMagic):], inner.Decode)
		}
		if !bytes.HasPrefix(data, logMagic) {
			return inner.Decode(data)
		}
		data = data[len(logMagic):]
		if len(data) < 24 {
			return nil, errors.New("log-target model: truncated")
		}
		var v [3]float64
		for i := range v {
			v[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
		}
		smear, lo, hi := v[0], v[1], v[2]
		if !(smear > 0) || math.IsInf(smear, 0) || !(lo <= hi) || math.IsInf(hi, 0) || math.IsInf(lo, 0) {
			return nil, fmt.Errorf("log-target model: bad smearing factor %v or bounds [%v, %v]", smear, lo, hi)
		}
		m, err := inner.Decode(data[24:])
		if err != nil {
			return nil, err
		}
		return &LogTargetModel{Inner: m, Smear: smear, Lo: lo, Hi: hi}, nil
	}
	return f
}

// checkTargetTag refuses a target-transform encoding whose tag names a
// later version than this build reads ("tflogtarget2\x00"): it would not
// match logMagic or trendMagic and reach the inner family's decoder, to
// read as that family's corrupt data.
func checkTargetTag(data []byte) error {
	tag, _, ok := bytes.Cut(data[:min(len(data), 32)], []byte{0})
	if !ok {
		return nil
	}
	for _, t := range []struct{ what, prefix string }{{"log-target model", "tflogtarget"}, {"trend-target model", "tftrendtarget"}} {
		if err := formatversion.CheckTag(t.what, string(tag), t.prefix, 1); err != nil {
			return fmt.Errorf("model: %w", err)
		}
	}
	return nil
}

// transformParams are the target transform's parameters.
type transformParams struct {
	transform string
	features  []string // TrendFeaturesKey
}

// splitTransform takes target_transform (and trend_features) out of a
// JSON parameter object, returning the rest for the wrapped family's
// strict decoding.
func splitTransform(params json.RawMessage) (transformParams, json.RawMessage, error) {
	var tp transformParams
	if len(bytes.TrimSpace(params)) == 0 || !bytes.Contains(params, []byte(TargetTransformKey)) {
		return tp, params, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(params, &m); err != nil {
		return tp, params, nil // the family reports its own parse error
	}
	raw, ok := m[TargetTransformKey]
	if !ok {
		return tp, params, nil
	}
	if err := json.Unmarshal(raw, &tp.transform); err != nil {
		return tp, nil, fmt.Errorf("%s: want a string, got %s", TargetTransformKey, raw)
	}
	if raw, ok := m[TrendFeaturesKey]; ok {
		if err := json.Unmarshal(raw, &tp.features); err != nil {
			return tp, nil, fmt.Errorf("%s: want a list of feature names, got %s", TrendFeaturesKey, raw)
		}
	}
	delete(m, TargetTransformKey)
	delete(m, TrendFeaturesKey)
	rest, err := json.Marshal(m)
	return tp, rest, err
}

// LogTargetLearner fits Inner on log(1+y).
type LogTargetLearner struct {
	Inner Learner
}

// MarshalJSON names the transform beside the inner learner's parameters,
// so cache keys of raw and log fits differ.
func (l *LogTargetLearner) MarshalJSON() ([]byte, error) {
	return wrapperJSON(TargetLog, nil, l.Inner)
}

// wrapperJSON encodes a target transform's learner: the transform, its
// trend features if any, and the inner learner's type and encoding.
func wrapperJSON(transform string, features []string, inner Learner) ([]byte, error) {
	raw, err := json.Marshal(inner)
	if err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		Transform string          `json:"target_transform"`
		Features  []string        `json:"trend_features,omitempty"`
		Type      string          `json:"learner_type"` // two families' learners may encode alike
		Inner     json.RawMessage `json:"learner"`
	}{transform, features, fmt.Sprintf("%T", inner), raw})
}

// Fit fits Inner on log(1+y) and estimates Duan's smearing factor on the
// training residuals, so predictions estimate the mean of y rather than
// its geometric mean. Predictions on the log scale are clamped to the
// training range widened by a tenth on each side: exp turns an
// extrapolating linear model's rare wild prediction into an enormous one.
func (l *LogTargetLearner) Fit(ctx context.Context, d *Dataset, o FitOptions) (Model, error) {
	z := make([]float64, len(d.Y))
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, y := range d.Y {
		if !(y >= 0) || math.IsInf(y, 0) {
			return nil, fmt.Errorf("%s %s needs a finite target >= 0; row %d has %v", TargetTransformKey, TargetLog, i, y)
		}
		z[i] = math.Log1p(y)
		lo, hi = min(lo, z[i]), max(hi, z[i])
	}
	margin := (hi - lo) / 10
	lo, hi = max(0, lo-margin), hi+margin
	ld := *d
	ld.Y = z
	m, err := l.Inner.Fit(ctx, &ld, o)
	if err != nil {
		return nil, err
	}
	pred := make([]float64, d.X.Rows)
	if err := m.Predict(pred, d.X); err != nil {
		return nil, err
	}
	var sum, wsum float64
	for i := range z {
		w := 1.0
		if d.Weights != nil {
			w = d.Weights[i]
		}
		sum += w * math.Exp(z[i]-min(max(pred[i], lo), hi))
		wsum += w
	}
	smear := sum / wsum
	if !(smear > 0) || math.IsInf(smear, 0) {
		smear = 1
	}
	return &LogTargetModel{Inner: m, Smear: smear, Lo: lo, Hi: hi}, nil
}

// LogTargetModel predicts Smear·exp(clamp(Inner, Lo, Hi))−1.
type LogTargetModel struct {
	Inner  Model
	Smear  float64
	Lo, Hi float64 // bounds of the inner prediction (log scale)
}

// Family is the inner model's family.
func (m *LogTargetModel) Family() string { return m.Inner.Family() }

// NumOutputs is 1: the transform is for regression.
func (m *LogTargetModel) NumOutputs() int { return 1 }

// Predict writes the back-transformed predictions.
func (m *LogTargetModel) Predict(dst []float64, x *Matrix) error {
	if err := m.Inner.Predict(dst, x); err != nil {
		return err
	}
	for i, z := range dst {
		dst[i] = m.Smear*math.Exp(min(max(z, m.Lo), m.Hi)) - 1
	}
	return nil
}

// Params are the inner model's with the transform named.
func (m *LogTargetModel) Params() map[string]any { return transformedParams(m.Inner, TargetLog) }

// transformedParams are inner's parameters with the target transform
// named, in a map of their own.
func transformedParams(inner Model, transform string) map[string]any {
	p := maps.Clone(inner.Params())
	if p == nil {
		p = map[string]any{}
	}
	p[TargetTransformKey] = transform
	return p
}

// Unwrap returns the model of log(1+y), for explanations on that scale.
func (m *LogTargetModel) Unwrap() Model { return m.Inner }

// MarshalBinary prefixes the inner encoding with the transform and the
// smearing factor.
func (m *LogTargetModel) MarshalBinary() ([]byte, error) {
	inner, err := m.Inner.MarshalBinary()
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(logMagic)+24+len(inner))
	out = append(out, logMagic...)
	for _, v := range []float64{m.Smear, m.Lo, m.Hi} {
		out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
	}
	return append(out, inner...), nil
}
