package meta

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/linear"
	"github.com/tabforge/tabforge/model/tree"
	"github.com/tabforge/tabforge/pipeline"
)

// Landmarkers fit at most landmarkCells design cells (rows × encoded
// features) unless Options.LandmarkRows says otherwise, and never fewer
// than minLandmarkRows rows.
const (
	landmarkCells   = 200_000
	minLandmarkRows = 300
)

// landmarker is a cheap learner whose CV score describes a dataset.
type landmarker struct {
	name string
	new  func(task model.Task) model.Learner // nil for 1-NN, which is scored directly
}

func landmarkerList(seed uint64) []landmarker {
	return []landmarker{
		{LandmarkConstant, func(model.Task) model.Learner { return constant{} }},
		{LandmarkStump, func(model.Task) model.Learner { return tree.Params{MaxDepth: 1, Seed: seed} }},
		{LandmarkTree, func(model.Task) model.Learner { return tree.Params{MaxDepth: 3, Seed: seed} }},
		{LandmarkLinear, func(task model.Task) model.Learner {
			if task.IsClassification() {
				return linear.Logistic{C: 1, MaxIter: 100, Tol: 1e-4}
			}
			return linear.Regression{Alpha: 1}
		}},
		{Landmark1NN, nil},
	}
}

// landmarkers adds the landmarkers' CV scores on t, a small sample: the
// features one-hot encoded (at most 10 levels a column), imputed and
// standardised once on the whole sample, then o.folds() seeded folds. A
// landmarker that fails is left out; a sample too small for the folds
// gets none.
func landmarkers(ctx context.Context, f *Features, t *pipeline.TrainingTable, o Options) error {
	k := o.folds()
	n := t.X.NumRows()
	if n < 2*k {
		return nil
	}
	d, err := designOf(ctx, t)
	if err != nil {
		return err
	}
	perm := rand.New(rand.NewPCG(o.Seed, streamFolds)).Perm(n)
	if o.LandmarkRows == 0 && n*d.X.Cols > landmarkCells {
		// One-hot encoding widened the design: fewer rows keep the cost.
		perm = perm[:min(n, max(minLandmarkRows, landmarkCells/d.X.Cols))]
	}
	folds := make([][2][]int, k) // train, test rows per fold
	for i := range k {
		for j, r := range perm {
			if j%k == i {
				folds[i][1] = append(folds[i][1], r)
			} else {
				folds[i][0] = append(folds[i][0], r)
			}
		}
	}
	for _, lm := range landmarkerList(o.Seed) {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("meta: landmarkers: %w", err)
		}
		t0 := time.Now()
		score, err := cvScore(ctx, lm, d, folds)
		if err != nil {
			continue
		}
		f.Values[lm.name], f.Seconds[lm.name] = score, time.Since(t0).Seconds()
	}
	return nil
}

// designOf is t's design matrix for the landmarkers.
func designOf(ctx context.Context, t *pipeline.TrainingTable) (*model.Dataset, error) {
	spec := features.DesignSpec{OneHot: true, Scale: true, MaxOneHotLevels: 10}
	des, err := features.FitDesign(ctx, t.X, spec)
	if err != nil {
		return nil, fmt.Errorf("meta: landmark design: %w", err)
	}
	x, err := des.Matrix(t.X)
	if err != nil {
		return nil, fmt.Errorf("meta: landmark design: %w", err)
	}
	d := &model.Dataset{X: x, Y: t.Y, Task: t.Task, FeatureNames: des.FeatureNames()}
	if t.Task.IsClassification() {
		d.NumClasses = len(classCounts(t.Y, len(t.Classes)))
	}
	return d, nil
}

// cvScore is lm's mean score over the folds: accuracy for classification,
// R² for regression.
func cvScore(ctx context.Context, lm landmarker, d *model.Dataset, folds [][2][]int) (float64, error) {
	sum := 0.0
	for _, fo := range folds {
		train, test := d.TakeRows(fo[0]), d.TakeRows(fo[1])
		var pred []float64
		if lm.new == nil {
			pred = nearestNeighbour(train, test.X)
		} else {
			m, err := lm.new(d.Task).Fit(ctx, train, model.FitOptions{Workers: 1})
			if err != nil {
				return 0, err
			}
			pred = make([]float64, test.X.Rows*m.NumOutputs())
			if err := m.Predict(pred, test.X); err != nil {
				return 0, err
			}
			if d.Task.IsClassification() {
				pred = classOf(pred, m.NumOutputs())
			}
		}
		sum += score(d.Task, test.Y, pred)
	}
	return sum / float64(len(folds)), nil
}

// classOf turns NumOutputs values per row into class indices: a binary
// model's probability of class 1, or the largest of k class probabilities.
func classOf(p []float64, k int) []float64 {
	if k == 1 {
		out := make([]float64, len(p))
		for i, v := range p {
			if v >= 0.5 {
				out[i] = 1
			}
		}
		return out
	}
	out := make([]float64, len(p)/k)
	for i := range out {
		best := 0
		for j := 1; j < k; j++ {
			if p[i*k+j] > p[i*k+best] {
				best = j
			}
		}
		out[i] = float64(best)
	}
	return out
}

// score is the accuracy of class predictions or the R² of values.
func score(task model.Task, y, pred []float64) float64 {
	if task.IsClassification() {
		hit := 0
		for i, v := range y {
			if pred[i] == v {
				hit++
			}
		}
		return float64(hit) / float64(len(y))
	}
	r2, err := eval.R2(y, pred, nil)
	if err != nil {
		return math.NaN()
	}
	return r2
}

// nearestNeighbour predicts each row of x by the target of its nearest
// training row in Euclidean distance (the first on ties).
func nearestNeighbour(train *model.Dataset, x *model.Matrix) []float64 {
	out := make([]float64, x.Rows)
	for i := range x.Rows {
		q := x.Row(i)
		best, bestD := 0, math.Inf(1)
		for j := range train.X.Rows {
			r := train.X.Row(j)
			d := 0.0
			for c, v := range q {
				e := v - r[c]
				d += e * e
				if d >= bestD {
					break
				}
			}
			if d < bestD {
				best, bestD = j, d
			}
		}
		out[i] = train.Y[best]
	}
	return out
}

// constant is the naive model: the mean target (regression) or the
// training class shares (classification), whatever the features.
type constant struct{}

func (constant) Fit(_ context.Context, d *model.Dataset, _ model.FitOptions) (model.Model, error) {
	if !d.Task.IsClassification() {
		m := moments(d.Y)
		return constModel{out: []float64{m.mean}}, nil
	}
	counts := classCounts(d.Y, d.NumClasses)
	shares := make([]float64, len(counts))
	for i, c := range counts {
		shares[i] = float64(c) / float64(len(d.Y))
	}
	if len(shares) == 2 {
		shares = shares[1:]
	}
	return constModel{out: shares}, nil
}

type constModel struct{ out []float64 }

func (constModel) Family() string                 { return "constant" }
func (m constModel) NumOutputs() int              { return len(m.out) }
func (constModel) Params() map[string]any         { return nil }
func (constModel) MarshalBinary() ([]byte, error) { return nil, nil }
func (m constModel) Predict(dst []float64, x *model.Matrix) error {
	for i := range x.Rows {
		copy(dst[i*len(m.out):], m.out)
	}
	return nil
}
