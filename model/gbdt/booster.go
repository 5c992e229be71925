package gbdt

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/tabforge/tabforge/internal/par"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/progress"
)

// ErrSchema reports data whose columns do not match the model's.
var ErrSchema = errors.New("gbdt: data does not match the model's features")

// Train fits a gradient-boosted model on train. If valid is not nil, the
// validation metric (rmse, mae, logloss or mlogloss by objective) is
// reported after every round through o.Progress, and with
// p.EarlyStoppingRounds > 0 boosting stops once it has not improved for
// that many rounds; the model then keeps the trees of the best round only.
// Train never modifies p, train or valid and keeps no reference to them.
// The result depends on p and the data only, not on o.
func Train(ctx context.Context, p Params, train, valid *model.Dataset, o model.FitOptions) (*Model, error) {
	if train == nil {
		return nil, fmt.Errorf("gbdt: %w", model.ErrEmpty)
	}
	if err := checkData(train); err != nil {
		return nil, err
	}
	if err := checkClasses(train); err != nil {
		return nil, err
	}
	c, err := p.resolve(train.Task)
	if err != nil {
		return nil, err
	}
	if valid != nil {
		if err := checkData(valid); err != nil {
			return nil, fmt.Errorf("gbdt: validation set: %w", err)
		}
		switch {
		case valid.X.Cols != train.X.Cols:
			return nil, fmt.Errorf("%w: validation set has %d columns, training set %d", ErrSchema, valid.X.Cols, train.X.Cols)
		case valid.Task != train.Task || valid.NumClasses != train.NumClasses:
			return nil, fmt.Errorf("gbdt: validation set task %s/%d classes differs from training set %s/%d",
				valid.Task, valid.NumClasses, train.Task, train.NumClasses)
		}
	}
	m := &Model{
		params: p, cfg: c, task: train.Task, numFeature: train.X.Cols,
		featureNames: append([]string(nil), train.FeatureNames...),
	}
	if train.Task == model.Multiclass {
		m.numClass = train.NumClasses
	}
	m.obj = newObjective(c, m.numClass)
	m.baseMargin = m.obj.baseMargin(train.Y, train.Weights, c.baseScore)
	if err := boost(ctx, m, train, valid, nil, c.rounds, o); err != nil {
		return nil, err
	}
	return m, nil
}

// Continue boosts rounds more rounds on d, starting from m's predictions
// (warm start), and returns the extended model; m is not modified. d must
// have m's columns and task; it may be new data. The new trees use m's
// parameters and fresh bins computed on d. Early stopping does not apply.
func Continue(ctx context.Context, m *Model, d *model.Dataset, rounds int, o model.FitOptions) (*Model, error) {
	if m == nil {
		return nil, errors.New("gbdt: continue: nil model")
	}
	if d == nil {
		return nil, fmt.Errorf("gbdt: continue: %w", model.ErrEmpty)
	}
	if err := checkData(d); err != nil {
		return nil, fmt.Errorf("gbdt: continue: %w", err)
	}
	switch {
	case rounds < 0:
		return nil, fmt.Errorf("gbdt: continue: rounds = %d, want >= 0", rounds)
	case d.X.Cols != m.numFeature:
		return nil, fmt.Errorf("%w: %d columns, model has %d", ErrSchema, d.X.Cols, m.numFeature)
	case d.Task != m.task:
		return nil, fmt.Errorf("gbdt: continue: task %s, model was fitted for %s", d.Task, m.task)
	case m.task == model.Multiclass && d.NumClasses != m.numClass:
		return nil, fmt.Errorf("gbdt: continue: %d classes, model has %d", d.NumClasses, m.numClass)
	}
	k := m.obj.groups()
	init := make([]float64, d.X.Rows*k)
	m.predictRaw(init, d.X, o.NumWorkers())
	out := m.clone()
	if err := boost(ctx, out, d, nil, init, rounds, o); err != nil {
		return nil, err
	}
	return out, nil
}

// maxTarget bounds regression targets so that residuals, times weights,
// stay within float32.
const maxTarget = 1e30

// outOfRangeError says that feature j of row i holds v, which gbdt
// cannot bin, naming the feature when d names its columns: "column 0"
// of a fold's design matrix left users to guess which of theirs held
// a 1e308.
func outOfRangeError(d *model.Dataset, i, j int, v float64) error {
	col := fmt.Sprintf("column %d", j)
	if j < len(d.FeatureNames) {
		col = fmt.Sprintf("column %q", d.FeatureNames[j])
	}
	if math.IsInf(v, 0) {
		return fmt.Errorf("gbdt: row %d %s: value %v is infinite (use NaN for missing)", i, col, v)
	}
	return fmt.Errorf("gbdt: row %d %s: value %v is beyond ±%.2g: features are binned as float32, as in XGBoost; rescale the column", i, col, v, math.MaxFloat32)
}

// checkData validates a dataset for training: shape, finite features
// within float32 range (NaN allowed, meaning missing), finite targets,
// class labels that are integers in range, non-negative weights.
func checkData(d *model.Dataset) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("gbdt: %w", err)
	}
	switch d.Task {
	case model.Regression, model.Binary, model.Multiclass:
	default:
		return fmt.Errorf("gbdt: unknown task %q", d.Task)
	}
	if d.Categorical != nil && len(d.Categorical) != d.X.Cols {
		return fmt.Errorf("gbdt: %d categorical flags for %d columns", len(d.Categorical), d.X.Cols)
	}
	if d.X.Rows > math.MaxInt32 {
		return fmt.Errorf("gbdt: %d rows; at most %d are supported (row indices are int32)", d.X.Rows, math.MaxInt32)
	}
	for i, v := range d.X.Data {
		if math.IsInf(v, 0) || (!math.IsNaN(v) && math.Abs(v) > math.MaxFloat32) {
			return outOfRangeError(d, i/d.X.Cols, i%d.X.Cols, v)
		}
	}
	for r, y := range d.Y {
		if math.IsNaN(y) || math.IsInf(y, 0) {
			return fmt.Errorf("gbdt: row %d: target %v is not finite", r, y)
		}
		if d.Task == model.Regression && math.Abs(y) > maxTarget {
			// Gradients are float32, as in XGBoost: past this the
			// residuals overflow and every prediction is NaN.
			return fmt.Errorf("gbdt: row %d: target %v is beyond ±%g, outside the float32 gradients' range; rescale the target", r, y, maxTarget)
		}
		if d.Task.IsClassification() && (y != math.Trunc(y) || y < 0 || int(y) >= d.NumClasses) {
			return fmt.Errorf("gbdt: row %d: label %v is not a class index in [0, %d)", r, y, d.NumClasses)
		}
	}
	var sw float64
	for r, w := range d.Weights {
		if !(w >= 0) || math.IsInf(w, 0) {
			return fmt.Errorf("gbdt: row %d: weight %v must be finite and >= 0", r, w)
		}
		sw += w
	}
	if d.Weights != nil && sw == 0 {
		return errors.New("gbdt: all weights are zero")
	}
	return nil
}

// checkClasses rejects a classification training set whose labels hold
// a single class: there is nothing to learn, and a model would only echo
// the prior.
func checkClasses(d *model.Dataset) error {
	if !d.Task.IsClassification() {
		return nil
	}
	for _, y := range d.Y[1:] {
		if y != d.Y[0] {
			return nil
		}
	}
	return fmt.Errorf("gbdt: every training label is class %v; classification needs at least 2 classes present", d.Y[0])
}

// gradBlock is the row block of parallel gradient and score updates.
const gradBlock = 1 << 14

// boost runs rounds boosting rounds on d, appending trees to m. init holds
// the starting margins (nil: m's base margins).
func boost(ctx context.Context, m *Model, d, valid *model.Dataset, init []float64, rounds int, o model.FitOptions) error {
	c := m.cfg
	c.minGain = minGain(&c, d)
	workers := o.NumWorkers()
	obj := m.obj
	k := obj.groups()
	n := d.X.Rows
	startRound := len(m.trees) / k

	var categorical []bool
	if c.catSplits {
		categorical = d.Categorical
	}
	bm, err := newBinMatrix(ctx, d.X, c.maxBin, c.seed, workers, categorical)
	if err != nil {
		return err
	}
	score := init
	if score == nil {
		score = make([]float64, n*k)
		for r := range n {
			copy(score[r*k:(r+1)*k], m.baseMargin)
		}
	}
	grad := make([][]rowGrad, k)
	for j := range grad {
		grad[j] = make([]rowGrad, n)
	}
	vt := newValidTracker(m, valid, workers)
	g := newGrower(&c, bm, workers)
	var rows []int32
	nb := blocks(n, gradBlock)
	for r := range rounds {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("gbdt: round %d: %w", startRound+r, err)
		}
		par.Tasks(workers, nb, func(t int) {
			obj.gradients(grad, score, d.Y, d.Weights, t*gradBlock, min((t+1)*gradBlock, n))
		})
		rows = sampleRows(rows, n, c.subsample, stream(c.seed, stageRows, startRound+r))
		for j := range k {
			feats := sampleCols(bm.cols, c.colsample, stream(c.seed, stageCols, (startRound+r)*k+j))
			tb, leaves := g.grow(grad[j], rows, feats)
			if c.objective == AbsoluteError {
				refreshMedian(tb, leaves, g.idx, score, d.Y, d.Weights, c.eta)
			}
			addScores(score, k, j, tb, leaves, g.idx, bm, len(rows) == n, workers)
			t := tb.finish()
			m.trees = append(m.trees, t)
			m.treeClass = append(m.treeClass, j)
			vt.add(t, k, j)
		}
		ev := progress.Event{Stage: progress.GBDTRound, Step: r + 1, Total: rounds}
		if vt != nil {
			ev.Metrics = vt.score(obj, r)
		}
		o.Progress.Emit(ev)
		if vt != nil && c.earlyStop > 0 && r-vt.bestRound >= c.earlyStop {
			break
		}
	}
	if vt != nil && c.earlyStop > 0 && vt.bestRound >= 0 {
		keep := (startRound + vt.bestRound + 1) * k
		m.trees, m.treeClass = m.trees[:keep], m.treeClass[:keep]
		m.bestScore = vt.best
	}
	m.pack()
	return nil
}

// validTracker follows the validation rows' scores as trees are added,
// and the best round of the evaluation metric on them.
type validTracker struct {
	d         *model.Dataset
	margin    []float64 // rows × groups
	blk       *rowBlock // the validation features as float32, converted once
	best      float64
	bestRound int // -1 before the first round
}

// newValidTracker starts from the model's margins on valid; nil when
// there are no validation rows (its add is then a no-op).
func newValidTracker(m *Model, valid *model.Dataset, workers int) *validTracker {
	if valid == nil {
		return nil
	}
	vt := &validTracker{d: valid, margin: make([]float64, valid.X.Rows*m.obj.groups()),
		blk: &rowBlock{}, best: math.Inf(1), bestRound: -1}
	m.predictRaw(vt.margin, valid.X, workers)
	vt.blk.fill(valid.X.Data, valid.X.Rows, valid.X.Cols)
	return vt
}

// add adds tree t of group j (of k) to the validation margins.
func (vt *validTracker) add(t *Tree, k, j int) {
	if vt == nil {
		return
	}
	pt := t.pack()
	pt.addTo(vt.margin, k, j, vt.blk)
}

// score evaluates round r's margins, remembers the best round, and
// returns the metric as the round's progress metrics.
func (vt *validTracker) score(obj objective, r int) map[string]float64 {
	v := evalMetric(obj.metric(), obj, vt.margin, vt.d.Y, vt.d.Weights)
	if v < vt.best {
		vt.best, vt.bestRound = v, r
	}
	return map[string]float64{"valid_" + string(obj.metric()): v}
}

// addScores adds a new tree's leaf values to group j of the training
// margins. When every row was in the sample, the grower's leaf segments
// say where each row ended up; otherwise every row is routed by its codes.
func addScores(score []float64, k, j int, tb *treeBuilder, leaves []leafSeg, idx []int32, bm *binMatrix, allRows bool, workers int) {
	if !allRows {
		n := bm.rows
		par.Tasks(workers, blocks(n, gradBlock), func(t int) {
			for row := t * gradBlock; row < min((t+1)*gradBlock, n); row++ {
				score[row*k+j] += float64(tb.value[tb.route(bm, row)])
			}
		})
		return
	}
	par.Tasks(workers, len(leaves), func(t int) {
		ls := &leaves[t]
		v := float64(tb.value[ls.nid])
		if ls.right < 0 {
			for _, row := range idx[ls.begin:ls.end] {
				score[int(row)*k+j] += v
			}
			return
		}
		vals := [2]float64{float64(tb.value[ls.right]), v}
		col := bm.codes[ls.feature]
		for _, row := range idx[ls.begin:ls.end] {
			score[int(row)*k+j] += vals[ls.tbl[col[row]]]
		}
	})
}

// refreshMedian sets every leaf to the weighted median of its rows'
// residuals y − score, times eta (XGBoost's adaptive leaves for
// reg:absoluteerror).
func refreshMedian(tb *treeBuilder, leaves []leafSeg, idx []int32, score, y, w []float64, eta float64) {
	var res, rw []float64
	for _, ls := range leaves {
		res, rw = res[:0], rw[:0]
		for _, r := range idx[ls.begin:ls.end] {
			res = append(res, y[r]-score[r])
			rw = append(rw, weightAt(w, int(r)))
		}
		tb.setLeaf(ls.nid, float32(weightedMedian(res, rw)*eta))
	}
}
