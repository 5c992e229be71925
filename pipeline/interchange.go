package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/gbdt"
)

// ErrNotGBDT reports an export of a model XGBoost cannot represent.
var ErrNotGBDT = errors.New("only gbdt models can be exported to XGBoost JSON")

// ExportXGBoost writes p's gradient-boosting model in XGBoost's JSON format.
// XGBoost sees the design matrix, not the raw table: its features are
// p.Design.FeatureNames(), in order, so callers must apply the same
// preprocessing (tabforge's predict does it for them).
func ExportXGBoost(w io.Writer, p *Predictor) error {
	m, ok := p.Model.(*gbdt.Model)
	if !ok || p.Routes != nil { // per-segment models do not fit in one XGBoost booster
		what := p.Family()
		if p.Model != nil {
			// A gbdt fitted on log(1+y) or around a trend still reads
			// "gbdt"; name the transform, or the error contradicts itself.
			if t, _ := p.Model.Params()[model.TargetTransformKey].(string); t != "" && t != "none" {
				what += " with target_transform " + t + ", which XGBoost JSON cannot hold; --set target_transform=none trains one that exports"
			}
		}
		return fmt.Errorf("%w (this model is %s)", ErrNotGBDT, what)
	}
	return m.WriteXGBoostJSON(w)
}

// ImportXGBoost reads an XGBoost JSON model and wraps it as a Predictor
// whose inputs are numeric columns named after the model's features (f0,
// f1, ... when the file names none); missing values are passed to the
// trees, which route them by their learned default direction. Classes are
// named "0", "1", ...
func ImportXGBoost(r io.Reader, target string) (*Predictor, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	m, err := gbdt.ReadXGBoostJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	names := m.FeatureNames()
	if len(names) == 0 {
		for i := range m.NumFeatures() {
			names = append(names, "f"+strconv.Itoa(i))
		}
	}
	cols := make([]*frame.Column, len(names))
	schema := make([]Field, len(names))
	for i, n := range names {
		cols[i] = frame.NewNumeric(n, []float64{math.NaN()})
		schema[i] = Field{Name: n, Kind: frame.Numeric}
	}
	proto, err := frame.New(cols...)
	if err != nil {
		return nil, fmt.Errorf("xgboost feature names: %w", err)
	}
	// A design over one all-missing row is a pass-through: no imputation
	// (Missing), no scaling, numeric columns in the model's order.
	design, err := features.FitDesign(context.Background(), proto, features.DesignSpec{Missing: true})
	if err != nil {
		return nil, err
	}
	t := Target{Name: target, Task: m.Task()}
	if t.Task.IsClassification() {
		k := max(2, m.NumOutputs())
		for c := range k {
			t.Classes = append(t.Classes, strconv.Itoa(c))
		}
	}
	return &Predictor{Target: t, Schema: schema, Design: design, Model: m}, nil
}
