package drift

import (
	"fmt"

	"github.com/tabforge/tabforge/frame"
)

// predictionName names the prediction column in a Report.
const predictionName = "prediction"

// predictionDrift applies o.Model to both batches and tests its outputs:
// regression values and binary class-1 probabilities as numbers,
// multiclass labels as categories.
func predictionDrift(ref, cur *frame.Frame, o Options) (*Column, error) {
	a, err := predictionColumn(o.Model, ref)
	if err != nil {
		return nil, fmt.Errorf("drift: predict on the reference data: %w", err)
	}
	b, err := predictionColumn(o.Model, cur)
	if err != nil {
		return nil, fmt.Errorf("drift: predict on the current data: %w", err)
	}
	c, err := compareColumns(a, b, o, false)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

func predictionColumn(m Model, x *frame.Frame) (*frame.Column, error) {
	p, err := m.Predict(x)
	if err != nil {
		return nil, err
	}
	if p.Values != nil {
		return frame.NewNumeric(predictionName, p.Values), nil
	}
	return frame.NewCategoricalFromStrings(predictionName, p.Labels), nil
}
