package explain

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/pipeline"
)

// RawInput is a predictor's raw input columns as a matrix, for explaining
// the whole pipeline (feature chain, design and model) at once: numeric
// and datetime values as they are, categorical columns as their codes
// (NaN for missing). Predict turns such a matrix back into a frame with
// the original levels and applies the predictor, writing its
// predictions (the value, the probability of class 1, or the class
// probabilities).
type RawInput struct {
	X            *model.Matrix
	FeatureNames []string
	Outputs      int
	Predict      Func
}

// NewRawInput lays out the schema columns of x for p.
func NewRawInput(p *pipeline.Predictor, x *frame.Frame) (*RawInput, error) {
	n := x.NumRows()
	cols := make([]*frame.Column, len(p.Schema))
	names := make([]string, len(p.Schema))
	for j, f := range p.Schema {
		c, ok := x.Lookup(f.Name)
		if !ok {
			return nil, &pipeline.SchemaError{Column: f.Name, Reason: "missing from the data; the model needs it"}
		}
		if c.Kind != f.Kind {
			return nil, &pipeline.SchemaError{Column: f.Name, Reason: fmt.Sprintf("is %s, the model was trained on %s", c.Kind, f.Kind)}
		}
		cols[j], names[j] = c, f.Name
	}
	m := model.NewMatrix(n, len(cols))
	for j, c := range cols {
		for r := range n {
			v := math.NaN()
			if c.Kind == frame.Categorical {
				if c.Codes[r] >= 0 {
					v = float64(c.Codes[r])
				}
			} else {
				v = c.Num[r]
			}
			m.Data[r*m.Cols+j] = v
		}
	}
	outputs := 1
	if p.Target.Task == model.Multiclass {
		outputs = len(p.Target.Classes)
	}
	predict := func(dst []float64, z *model.Matrix) error {
		fc := make([]*frame.Column, len(cols))
		for j, c := range cols {
			switch c.Kind {
			case frame.Categorical:
				codes := make([]int32, z.Rows)
				for r := range z.Rows {
					v := z.At(r, j)
					codes[r] = -1
					if !math.IsNaN(v) {
						codes[r] = int32(v)
					}
				}
				fc[j] = frame.NewCategorical(c.Name, codes, c.Levels)
			default:
				v := make([]float64, z.Rows)
				for r := range z.Rows {
					v[r] = z.At(r, j)
				}
				fc[j] = &frame.Column{Name: c.Name, Kind: c.Kind, Num: v}
			}
		}
		f, err := frame.New(fc...)
		if err != nil {
			return err
		}
		pred, err := p.Predict(f)
		if err != nil {
			return err
		}
		if outputs > 1 {
			copy(dst, pred.Probs)
		} else {
			copy(dst, pred.Values)
		}
		return nil
	}
	return &RawInput{X: m, FeatureNames: names, Outputs: outputs, Predict: predict}, nil
}

// ExplainPredictorRaw explains the whole predictor with KernelSHAP over
// its raw input columns rather than the design matrix: a column's value
// reaches every feature derived from it, so e.g. a one-hot block or a
// date's parts get one value together. Rows, MaxRows, Seed, Workers,
// BackgroundSize and KernelSamples work as in ExplainPredictor (the
// background is sampled, since k-means centres are not valid raw rows).
// Feature stages that look across rows (temporal lags, segment
// aggregates) see synthetic rows here, so prefer ExplainPredictor for
// them.
func ExplainPredictorRaw(ctx context.Context, p *pipeline.Predictor, x *frame.Frame, o PredictorOptions) (*Values, error) {
	in, err := NewRawInput(p, x)
	if err != nil {
		return nil, err
	}
	n := in.X.Rows
	if n == 0 {
		return nil, errors.New("explain: the data has no rows")
	}
	rows := o.Rows
	if rows == nil {
		rows = SampleRows(n, o.MaxRows, o.Seed)
	}
	for _, r := range rows {
		if r < 0 || r >= n {
			return nil, &RowsError{Row: r, Rows: n}
		}
	}
	size := o.BackgroundSize
	if size <= 0 {
		size = 50
	}
	bg := SampleBackground(in.X, size, o.Seed)
	sub := in.X.TakeRows(rows)
	v, err := KernelSHAP(ctx, in.Predict, in.Outputs, sub, bg, KernelOptions{Samples: o.KernelSamples, Seed: o.Seed, Workers: o.Workers}, in.FeatureNames)
	if err != nil {
		return nil, err
	}
	v.RowIndex = slices.Clone(rows)
	v.X = sub.Data
	if in.Outputs > 1 {
		v.OutputNames = slices.Clone(p.Target.Classes)
	}
	return v, nil
}
