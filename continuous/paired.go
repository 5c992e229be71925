package continuous

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/pipeline"
)

// resamples is the number of bootstrap resamples of the paired
// comparison.
const resamples = 200

// Paired compares champion and challenger on bootstrap resamples of the
// held-out rows, each resample scoring both models on the same rows, so
// that the spread reflects the rows, not the difference between two
// samples.
type Paired struct {
	Resamples int `json:"resamples"`
	// ChallengerWins is the share of resamples on which the challenger
	// scores better.
	ChallengerWins float64 `json:"challenger_wins"`
	// GainLow and GainHigh bound the middle 90% of the challenger's gain
	// over the champion (positive: better, whatever the metric's sense).
	GainLow  float64 `json:"gain_low"`
	GainHigh float64 `json:"gain_high"`
}

// outputs are a model's outputs on rows with a target, and the targets
// coded as the model codes them.
type outputs struct {
	task    model.Task
	classes int
	y, out  []float64 // out: one value a row, or classes probabilities
}

// predictRows applies p to x and codes x's target for p; rows without a
// target are left out (the same rows for every model, since they depend
// on the data only).
func predictRows(p *pipeline.Predictor, x *frame.Frame) (*outputs, error) {
	rows, y, err := targetRows(p, x)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("target column %q has no values in the newest rows", p.Target.Name)
	}
	o := &outputs{task: p.Target.Task, classes: len(p.Target.Classes), y: y}
	pred, err := p.Predict(x.Take(rows))
	if err != nil {
		return nil, err
	}
	o.out = pred.Values
	if o.task == model.Multiclass {
		o.out = pred.Probs
	}
	return o, nil
}

// targetRows returns the rows of x with a target and their targets as p
// codes them.
func targetRows(p *pipeline.Predictor, x *frame.Frame) (rows []int, y []float64, err error) {
	tcol, ok := x.Lookup(p.Target.Name)
	if !ok {
		return nil, nil, fmt.Errorf("target column %q not found", p.Target.Name)
	}
	for i := range x.NumRows() {
		if tcol.IsMissing(i) {
			continue
		}
		v, err := targetCode(p, tcol, i)
		if err != nil {
			return nil, nil, err
		}
		rows, y = append(rows, i), append(y, v)
	}
	return rows, y, nil
}

// targetCode is row i's target as p codes it: the value, or the class index.
func targetCode(p *pipeline.Predictor, c *frame.Column, i int) (float64, error) {
	if p.Target.Task == model.Regression {
		if c.Kind != frame.Numeric {
			return 0, pipeline.NonNumericTarget(c)
		}
		return c.Num[i], nil
	}
	k, label := p.Target.ClassIndex(c, i)
	if k < 0 {
		return 0, &UnseenClassError{Column: c.Name, Row: i, Class: label, Classes: p.Target.Classes}
	}
	return float64(k), nil
}

// UnseenClassError is a target label of the data a model is scored on
// that the model never learnt, so it has no probability for it.
type UnseenClassError struct {
	Column, Class string
	// Row is the 0-based data row of the file the label is in.
	Row     int
	Classes []string // the model's
}

func (e *UnseenClassError) Error() string {
	return fmt.Sprintf("target column %q, row %d: class %q was not seen in training (the model's classes: %q)", e.Column, e.Row+1, e.Class, e.Classes)
}

// inFile maps the row of an UnseenClassError in err, found in the rows
// rows of a file, to the file's row: the models are scored on subsets of
// the file (the newest rows, the refresh's check rows), and the row of
// the subset named no row of the file the user has.
func inFile(err error, rows []int) error {
	var u *UnseenClassError
	if errors.As(err, &u) && u.Row < len(rows) {
		u.Row = rows[u.Row]
	}
	return err
}

// metric scores the outputs of rows idx (all when nil).
func (o *outputs) metric(name string, idx []int) (float64, error) {
	w := 1
	if o.task == model.Multiclass {
		w = o.classes
	}
	y, out := o.y, o.out
	if idx != nil {
		y, out = make([]float64, len(idx)), make([]float64, 0, len(idx)*w)
		for j, i := range idx {
			y[j] = o.y[i]
			out = append(out, o.out[i*w:(i+1)*w]...)
		}
	}
	var m eval.Metrics
	var err error
	switch o.task {
	case model.Regression:
		m, err = eval.Regression(y, out)
	case model.Binary:
		m, err = eval.Classification(y, out, 2)
	default:
		m, err = eval.Classification(y, out, o.classes)
	}
	if err != nil {
		return 0, err
	}
	v, ok := m[name]
	if !ok {
		return 0, fmt.Errorf("no %s metric for a %s task", name, o.task)
	}
	return v, nil
}

// paired bootstraps the challenger's gain over the champion with a
// seeded stream.
func paired(champ, chal *outputs, metric string, seed uint64) (Paired, error) {
	n := len(champ.y)
	r := rand.New(rand.NewPCG(seed, 0xb007))
	idx := make([]int, n)
	gains := make([]float64, 0, resamples)
	wins := 0
	for range resamples {
		for i := range idx {
			idx[i] = r.IntN(n)
		}
		a, err := champ.metric(metric, idx)
		if err != nil {
			return Paired{}, err
		}
		b, err := chal.metric(metric, idx)
		if err != nil {
			return Paired{}, err
		}
		g := b - a
		if !eval.Higher(metric) {
			g = -g
		}
		if math.IsNaN(g) {
			continue // a resample without both classes has no AUC
		}
		if g > 0 {
			wins++
		}
		gains = append(gains, g)
	}
	if len(gains) == 0 {
		return Paired{}, fmt.Errorf("paired comparison: no resample could be scored on %s", metric)
	}
	slices.Sort(gains)
	q := func(p float64) float64 { return gains[min(len(gains)-1, int(p*float64(len(gains))))] }
	return Paired{Resamples: len(gains), ChallengerWins: float64(wins) / float64(len(gains)), GainLow: q(0.05), GainHigh: q(0.95)}, nil
}
