package pipeline

import "github.com/tabforge/tabforge/frame"

// PredictionColumn applies p to x and returns its predictions as one
// column named "prediction", the form a drift test compares: numeric for
// regression values and binary class-1 probabilities, categorical labels
// for multiclass.
func (p *Predictor) PredictionColumn(x *frame.Frame) (*frame.Column, error) {
	pred, err := p.Predict(x)
	if err != nil {
		return nil, err
	}
	if pred.Values != nil {
		return frame.NewNumeric("prediction", pred.Values), nil
	}
	return frame.NewCategoricalFromStrings("prediction", pred.Labels), nil
}
