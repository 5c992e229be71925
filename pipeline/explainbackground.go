package pipeline

import (
	"bytes"
	"context"
	"fmt"

	"github.com/tabforge/tabforge/explain"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
)

// backgroundRows is how many training rows a saved predictor keeps for
// explanations (Predictor.Background); KernelSHAP summarises them to
// explain.Options.BackgroundSize points.
const backgroundRows = 100

// trainingBackground is a seeded sample of up to backgroundRows training
// rows of x's input columns (schema), as CSV.
func trainingBackground(x *frame.Frame, train []int, schema []Field, seed uint64) (string, error) {
	pick := explain.SampleRows(len(train), backgroundRows, seed)
	rows := make([]int, len(pick))
	for i, j := range pick {
		rows[i] = train[j]
	}
	sub := x.Take(rows)
	cols := make([]*frame.Column, 0, len(schema))
	for _, f := range schema {
		c, ok := sub.Lookup(f.Name)
		if !ok {
			return "", fmt.Errorf("explanation background: no column %q", f.Name)
		}
		cols = append(cols, c)
	}
	bg, err := frame.New(cols...)
	if err != nil {
		return "", fmt.Errorf("explanation background: %w", err)
	}
	var b bytes.Buffer
	if err := frame.WriteCSV(&b, bg); err != nil {
		return "", fmt.Errorf("explanation background: %w", err)
	}
	return b.String(), nil
}

// backgroundFrame reads the training background rows p keeps.
func backgroundFrame(p *Predictor) (*frame.Frame, error) {
	bg, _, err := p.ReadInputFrom(func(o frame.ReadOptions) (*frame.Frame, error) {
		return frame.ReadCSVBytes([]byte(p.Background), o)
	}, frame.ReadOptions{})
	if err != nil {
		return nil, fmt.Errorf("explain: the model's background rows: %w", err)
	}
	return bg, nil
}

// designBackground is the design matrix of p's training background
// rows (a single model's), which must have cols columns like the data's.
func designBackground(p *Predictor, cols int) (*model.Matrix, error) {
	bg, err := backgroundFrame(p)
	if err != nil {
		return nil, err
	}
	in, err := NewExplainInput(p, bg)
	if err != nil {
		return nil, fmt.Errorf("explain: the model's background rows: %w", err)
	}
	if in.X.Cols != cols {
		return nil, fmt.Errorf("explain: the model's background rows have %d design columns, the data %d", in.X.Cols, cols)
	}
	return in.X, nil
}

// withBackground is the raw explanation input of p's training background
// rows followed by x's, and the number of background rows.
func withBackground(p *Predictor, x *frame.Frame) (*ExplainInput, int, error) {
	bg, err := backgroundFrame(p)
	if err != nil {
		return nil, 0, err
	}
	both, err := frame.Concat(bg, x)
	if err != nil {
		return nil, 0, fmt.Errorf("explain: %w", err)
	}
	in, err := rawInput(p, both, nil)
	return in, bg.NumRows(), err
}

// backgroundOf summarises o.Background as explain.Explain would.
func backgroundOf(ctx context.Context, o explain.Options) (*explain.Background, error) {
	n := o.BackgroundSize
	if n <= 0 {
		n = 50
	}
	if o.BackgroundSampling {
		return explain.SampleBackground(o.Background, n, o.Seed), nil
	}
	return explain.KMeansBackground(ctx, o.Background, n, o.Seed)
}

// ensembleBackground is the background interventional SHAP averages an
// ensemble over: bg's raw rows (the training rows p keeps, else the
// data's), at most n of them (0: explain.InterventionalBackground) drawn
// with seed, as a frame of in's input columns.
func ensembleBackground(in *ExplainInput, bg *model.Matrix, n int, seed uint64) (*frame.Frame, error) {
	if bg == nil || bg.Rows == 0 || in.frame == nil {
		return nil, nil
	}
	f, err := in.frame(explain.CapBackground(bg, n, seed))
	if err != nil {
		return nil, fmt.Errorf("explain: background rows: %w", err)
	}
	return f, nil
}
