package pipeline

import (
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
)

// ProbColumn names the output that holds the probability of class: the
// column of `tabforge predict`, the record key of serve's JSON and the
// KServe V2 output tensor alike.
func ProbColumn(class string) string { return "prob_" + class }

// PredictionFrame lays pred out as `tabforge predict` writes it: a
// "prediction" column (the value for regression, the predicted label
// for classifiers) and, for classifiers, one ProbColumn per class in
// Target.Classes order.
func (p *Predictor) PredictionFrame(pred *Prediction) (*frame.Frame, error) {
	if p.Target.Task == model.Regression {
		return frame.New(frame.NewNumeric("prediction", pred.Values))
	}
	cols := []*frame.Column{frame.NewCategoricalFromStrings("prediction", pred.Labels)}
	k := len(p.Target.Classes)
	for c, name := range p.Target.Classes {
		v := make([]float64, len(pred.Labels))
		for i := range v {
			v[i] = pred.Probs[i*k+c]
		}
		cols = append(cols, frame.NewNumeric(ProbColumn(name), v))
	}
	return frame.New(cols...)
}
