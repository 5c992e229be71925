package drift

import (
	"fmt"

	"github.com/tabforge/tabforge/frame"
)

// predictionDrift applies o.Predict to both batches and tests its
// outputs like a column.
func predictionDrift(ref, cur *frame.Frame, o Options) (*Column, error) {
	a, err := o.Predict(ref)
	if err != nil {
		return nil, fmt.Errorf("drift: predict on the reference data: %w", err)
	}
	b, err := o.Predict(cur)
	if err != nil {
		return nil, fmt.Errorf("drift: predict on the current data: %w", err)
	}
	if a.Kind != b.Kind {
		return nil, fmt.Errorf("drift: predictions are %s on the reference and %s on the current data", a.Kind, b.Kind)
	}
	c, err := compareColumns(a, b, o, false)
	if err != nil {
		return nil, err
	}
	return &c, nil
}
