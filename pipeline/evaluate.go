package pipeline

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
)

// Evaluate scores p on labelled data x, which must hold p's target column
// as well as its inputs. Rows with a missing target are skipped; a label
// the model never saw is an error.
func Evaluate(p *Predictor, x *frame.Frame) (eval.Metrics, int, error) {
	tcol, ok := x.Lookup(p.Target.Name)
	if !ok {
		return nil, 0, fmt.Errorf("target column %q not found in the data", p.Target.Name)
	}
	var rows []int
	y := make([]float64, 0, x.NumRows())
	for i := range x.NumRows() {
		if tcol.IsMissing(i) {
			continue
		}
		v, err := p.targetValue(tcol, i)
		if err != nil {
			return nil, 0, err
		}
		rows = append(rows, i)
		y = append(y, v)
	}
	if len(rows) == 0 {
		return nil, 0, fmt.Errorf("target column %q has no values", p.Target.Name)
	}
	pred, err := p.Predict(x.Take(rows))
	if err != nil {
		return nil, 0, err
	}
	var m eval.Metrics
	switch p.Target.Task {
	case model.Regression:
		m, err = eval.Regression(y, pred.Values)
	case model.Binary:
		m, err = eval.Classification(y, pred.Values, 2)
	default:
		m, err = eval.Classification(y, pred.Probs, len(p.Target.Classes))
	}
	return m, len(rows), err
}

func (p *Predictor) targetValue(c *frame.Column, i int) (float64, error) {
	if p.Target.Task == model.Regression {
		if c.Kind != frame.Numeric {
			return 0, NonNumericTarget(c)
		}
		return c.Num[i], nil
	}
	k, label := p.Target.ClassIndex(c, i)
	if k < 0 {
		return math.NaN(), fmt.Errorf("target column %q, row %d: label %q was not seen in training (the model's classes: %q)", c.Name, i+1, label, p.Target.Classes)
	}
	return float64(k), nil
}

// NonNumericTarget is the error for a regression model's target column c
// that was not read as numbers. It names the first value that is not
// one, the row a user has to fix; it used to say only that the column
// "is not numeric", leaving them to search thousands of rows.
func NonNumericTarget(c *frame.Column) error {
	for i := range c.Len() {
		if c.IsMissing(i) {
			continue
		}
		if _, err := strconv.ParseFloat(strings.TrimSpace(c.Label(i)), 64); err != nil {
			return fmt.Errorf("target column %q is not numeric: row %d holds %q, and the model predicts numbers (regression)", c.Name, i+1, c.Label(i))
		}
	}
	return fmt.Errorf("target column %q is not numeric (read as %s), and the model predicts numbers (regression)", c.Name, c.Kind)
}
