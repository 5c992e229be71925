// Package forest implements random forests (Breiman, 2001) and
// extremely randomised trees (Geurts, Ernst and Wehenkel, 2006) for
// regression and binary or multiclass classification, in the manner of
// scikit-learn's RandomForest* and ExtraTrees* estimators.
//
// Each tree is a package tree CART grown on one shared, rank-coded copy of
// the training set (tree.Prepare): random forests draw a bootstrap sample
// per tree and the best threshold per candidate feature; extra-trees use
// all rows by default and one random threshold per candidate feature.
// Trees are grown in parallel, and tree i draws all its randomness from
// its own stream derived from (Seed, i), so a fitted forest — and its
// encoding — is identical whatever the number of workers. Predictions
// average the trees' values (class probabilities for classification).
package forest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/internal/par"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/tree"
	"github.com/tabforge/tabforge/progress"
)

// Family names.
const (
	FamilyForest     = "forest"
	FamilyExtraTrees = "extra_trees"
)

// streamForestTree tags the random streams of forest trees (tree.Stream).
const streamForestTree = 2

// Params are the hyperparameters of a forest; the zero value is
// scikit-learn's RandomForest default (100 fully grown trees, bootstrap).
// Params is a model.Learner.
type Params struct {
	// NEstimators is the number of trees; 0 means 100.
	NEstimators int `json:"n_estimators,omitempty"`
	// ExtraTrees selects random thresholds (the extra_trees family).
	ExtraTrees bool `json:"extra_trees,omitempty"`
	// Bootstrap draws each tree's rows with replacement; nil means true
	// for random forests and false for extra-trees.
	Bootstrap *bool `json:"bootstrap,omitempty"`
	// MaxSamples is the size of each tree's bootstrap sample: a fraction of
	// the rows in (0, 1], or a count above 1 (at most all the rows); 0
	// means as many draws as rows. Smaller samples grow smaller trees, in
	// time and memory roughly proportional, which is what large tables
	// need. Only with bootstrap.
	MaxSamples float64 `json:"max_samples,omitempty"`
	// Criterion: squared_error (regression), gini or entropy
	// (classification); empty means the task's default.
	Criterion tree.Criterion `json:"criterion,omitempty"`
	// MaxDepth limits each tree's depth; 0 means unlimited.
	MaxDepth int `json:"max_depth,omitempty"`
	// MinSamplesSplit is the fewest rows a node needs to split; 0 means 2.
	MinSamplesSplit int `json:"min_samples_split,omitempty"`
	// MinSamplesLeaf is the fewest rows per leaf; 0 means 1.
	MinSamplesLeaf int `json:"min_samples_leaf,omitempty"`
	// MaxFeatures is the number of features drawn per node; the zero value
	// means all features for regression (scikit-learn >= 1.1) and sqrt for
	// classification.
	MaxFeatures tree.MaxFeatures `json:"max_features,omitzero"`
	// MinImpurityDecrease is the least weighted impurity decrease of a split.
	MinImpurityDecrease float64 `json:"min_impurity_decrease,omitempty"`
	// Seed seeds every tree's stream.
	Seed uint64 `json:"seed"`
}

var _ model.Learner = Params{}

func (p Params) trees() int {
	if p.NEstimators == 0 {
		return 100
	}
	return p.NEstimators
}

func (p Params) bootstrap() bool {
	if p.Bootstrap == nil {
		return !p.ExtraTrees
	}
	return *p.Bootstrap
}

// treeParams returns the per-tree parameters with defaults resolved.
func (p Params) treeParams(task model.Task) tree.Params {
	tp := tree.Params{
		Criterion:           p.Criterion,
		MaxDepth:            p.MaxDepth,
		MinSamplesSplit:     p.MinSamplesSplit,
		MinSamplesLeaf:      p.MinSamplesLeaf,
		MaxFeatures:         p.MaxFeatures,
		MinImpurityDecrease: p.MinImpurityDecrease,
		Seed:                p.Seed,
	}
	if p.ExtraTrees {
		tp.Splitter = tree.Random
	}
	if tp.MaxFeatures.Rule == tree.DefaultFeatures {
		if task.IsClassification() {
			tp.MaxFeatures.Rule = tree.SqrtFeatures
		} else {
			tp.MaxFeatures.Rule = tree.AllFeatures
		}
	}
	return tp
}

// Validate checks p for task without looking at data.
func (p Params) Validate(task model.Task) error {
	if p.NEstimators < 0 {
		return fmt.Errorf("forest: n_estimators %d is negative", p.NEstimators)
	}
	switch ms := p.MaxSamples; {
	case math.IsNaN(ms) || ms < 0 || math.IsInf(ms, 0):
		return fmt.Errorf("forest: max_samples %v: want a fraction in (0, 1] or a count", ms)
	case ms > 1 && ms != math.Trunc(ms):
		return fmt.Errorf("forest: max_samples %v: a count above 1 must be whole", ms)
	case ms > 0 && !p.bootstrap():
		return errors.New("forest: max_samples needs bootstrap")
	}
	if err := p.treeParams(task).Validate(task); err != nil {
		return fmt.Errorf("forest: %w", err)
	}
	return nil
}

// Model is a fitted forest. It is immutable and safe for concurrent use.
type Model struct {
	params      Params
	task        model.Task
	numClasses  int
	numFeatures int
	names       []string
	trees       []*tree.Tree
	flat        []*tree.Flat // trees laid out for Predict's level walk; nil: row walk
	oob         float64      // NaN when not computed
	importances []float64
}

var _ model.Model = (*Model)(nil)

// Fit trains a forest on d; see Train.
func (p Params) Fit(ctx context.Context, d *model.Dataset, o model.FitOptions) (model.Model, error) {
	m, err := Train(ctx, p, d, o)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// draws is the bootstrap sample size for n rows.
func (p Params) draws(n int) int {
	switch ms := p.MaxSamples; {
	case ms == 0:
		return n
	case ms <= 1:
		return max(1, int(math.Round(ms*float64(n))))
	}
	return min(n, int(p.MaxSamples))
}

// Train grows the forest's trees on o.NumWorkers() goroutines, emitting a
// progress.ForestTree event per finished tree (one at a time, Step
// counting finished trees). It checks ctx before each tree and every
// few hundred nodes. With bootstrap it also computes the out-of-bag score.
func Train(ctx context.Context, p Params, d *model.Dataset, o model.FitOptions) (*Model, error) {
	if d == nil {
		return nil, errors.New("forest: nil dataset")
	}
	if err := p.Validate(d.Task); err != nil {
		return nil, err
	}
	pr, err := tree.Prepare(ctx, d, o.NumWorkers())
	if err != nil {
		return nil, fmt.Errorf("forest: %w", err)
	}
	nt := p.trees()
	tp := p.treeParams(d.Task)
	boot := p.bootstrap()
	m := &Model{params: p, task: d.Task, numClasses: pr.NumClasses(), numFeatures: pr.Cols(),
		trees: make([]*tree.Tree, nt), oob: math.NaN()}
	if d.FeatureNames != nil {
		m.names = append([]string(nil), d.FeatureNames...)
	}
	var inbag [][]uint64 // bit sets of in-bag rows per tree, for the OOB score
	if boot {
		inbag = make([][]uint64, nt)
	}
	if err := growAll(ctx, pr, tp, boot, p.draws(pr.Rows()), o, m.trees, inbag); err != nil {
		return nil, err
	}
	if boot {
		m.oob = oobScore(m, d, inbag)
	}
	m.importances = importances(m.trees, m.numFeatures)
	m.flatten()
	return m, nil
}

// growAll grows every tree of trees on up to o.NumWorkers() goroutines and
// returns the first error, which stops trees not yet started. Tree i
// depends only on i, never on which goroutine grows it or when. Each
// finished tree emits a progress.ForestTree event, serialised, with Step
// counting finished trees.
func growAll(ctx context.Context, pr *tree.Prepared, tp tree.Params, boot bool, draws int, o model.FitOptions, trees []*tree.Tree, inbag [][]uint64) error {
	nt, n := len(trees), pr.Rows()
	workers := min(o.NumWorkers(), nt)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	// Row buffers for bootstrap counts, one per running goroutine.
	free := make(chan []float64, workers)
	var mu sync.Mutex
	finished := 0
	for i := range nt {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() (err error) {
			defer par.Recover(&err) // a panic is the fit's error, not the process's end
			var w []float64
			select {
			case w = <-free:
			default:
				w = make([]float64, n)
			}
			defer func() { free <- w }()
			if err := growOne(gctx, pr, tp, boot, draws, i, w, trees, inbag); err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			finished++
			o.Progress.Emit(progress.Event{Stage: progress.ForestTree, Step: finished, Total: nt})
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if finished < nt {
		return fmt.Errorf("forest: %w", context.Cause(gctx))
	}
	return nil
}

// growOne grows tree i into trees[i], drawing its bootstrap sample of
// draws rows (if any) and its splits from stream (Seed, i). w is the
// worker's buffer.
func growOne(ctx context.Context, pr *tree.Prepared, tp tree.Params, boot bool, draws, i int, w []float64, trees []*tree.Tree, inbag [][]uint64) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("forest: tree %d: %w", i, err)
	}
	rng := tree.Stream(tp.Seed, streamForestTree, i)
	n := len(w)
	var weights []float64
	if boot {
		drawSample(w, draws, rng, pr.Weight)
		bits := make([]uint64, (n+63)/64)
		for r, c := range w {
			if c > 0 {
				bits[r/64] |= 1 << (r % 64)
				w[r] *= pr.Weight(r)
			}
		}
		inbag[i] = bits
		weights = w
	}
	t, err := pr.Grow(ctx, tp, weights, rng)
	if err != nil {
		return fmt.Errorf("forest: tree %d: %w", i, err)
	}
	trees[i] = t
	return nil
}

// drawSample fills w with the bootstrap counts of draws rows drawn with
// replacement from rng. A sample whose rows all have weight zero is drawn
// again from the same stream, so the tree has something to learn from and
// stays a function of (Seed, tree index): with most weights zero a small
// table draws such samples often, and one used to fail the whole fit
// (scikit-learn's trees predict NaN there). Prepare has rejected all-zero
// weights, so some draw succeeds.
func drawSample(w []float64, draws int, rng *rand.Rand, weight func(int) float64) {
	n := len(w)
	for {
		clear(w)
		for range draws {
			w[rng.IntN(n)]++
		}
		for r, c := range w {
			if c > 0 && weight(r) > 0 {
				return
			}
		}
	}
}

// oobScore predicts every training row with the trees that did not see it,
// summing in tree order so the result does not depend on scheduling, and
// returns R² (regression) or accuracy (classification) over the rows that
// have at least one such tree (R² as eval.R2, like scikit-learn's
// oob_score_); NaN if none has.
func oobScore(m *Model, d *model.Dataset, inbag [][]uint64) float64 {
	n, k := d.X.Rows, m.trees[0].NumOutputs
	sum := make([]float64, n*k)
	cnt := make([]int32, n)
	tree.ParallelRows(n, func(lo, hi int) {
		for ti, t := range m.trees {
			bits := inbag[ti]
			for r := lo; r < hi; r++ {
				if bits[r/64]&(1<<(r%64)) != 0 {
					continue
				}
				t.AddValue(sum[r*k:(r+1)*k], t.Leaf(d.X.Row(r)))
				cnt[r]++
			}
		}
	})
	var used, correct float64
	var ys, preds []float64
	for r := range n {
		if cnt[r] == 0 {
			continue
		}
		used++
		s := sum[r*k : (r+1)*k]
		switch m.task {
		case model.Regression:
			ys = append(ys, d.Y[r])
			preds = append(preds, s[0]/float64(cnt[r]))
		case model.Binary:
			if c := float64(boolInt(s[0]/float64(cnt[r]) > 0.5)); c == d.Y[r] {
				correct++
			}
		default:
			best := 0
			for j := range s {
				if s[j] > s[best] {
					best = j
				}
			}
			if float64(best) == d.Y[r] {
				correct++
			}
		}
	}
	if used == 0 {
		return math.NaN()
	}
	if m.task != model.Regression {
		return correct / used
	}
	r2, err := eval.R2(ys, preds, nil)
	if err != nil {
		return math.NaN()
	}
	return r2
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// importances averages the trees' normalised impurity-decrease
// importances over the trees that split at least once and normalises the
// mean, as scikit-learn's feature_importances_ does.
func importances(trees []*tree.Tree, p int) []float64 {
	out := make([]float64, p)
	buf := make([]float64, p)
	used := 0
	for _, t := range trees {
		if t.NumNodes() < 2 {
			continue
		}
		clear(buf)
		t.Importances(buf)
		tree.Normalize(buf)
		for j, v := range buf {
			out[j] += v
		}
		used++
	}
	if used > 0 {
		for j := range out {
			out[j] /= float64(used)
		}
	}
	tree.Normalize(out)
	return out
}

// Family returns "forest" or "extra_trees".
func (m *Model) Family() string {
	if m.params.ExtraTrees {
		return FamilyExtraTrees
	}
	return FamilyForest
}

// NumOutputs is 1 for regression and binary, NumClasses for multiclass.
func (m *Model) NumOutputs() int { return m.trees[0].NumOutputs }

// NumFeatures returns the number of columns the model expects.
func (m *Model) NumFeatures() int { return m.numFeatures }

// Task returns the task the model was trained for.
func (m *Model) Task() model.Task { return m.task }

// Trees returns the fitted trees; they must not be modified.
func (m *Model) Trees() []*tree.Tree { return append([]*tree.Tree(nil), m.trees...) }

// FeatureNames returns the training column names (nil if none were given).
func (m *Model) FeatureNames() []string { return append([]string(nil), m.names...) }

// OOBScore returns the out-of-bag R² (regression) or accuracy
// (classification) and whether it was computed (bootstrap forests whose
// rows are each left out by at least one tree).
func (m *Model) OOBScore() (float64, bool) { return m.oob, !math.IsNaN(m.oob) }

// FeatureImportances returns the mean decrease in impurity per feature,
// normalised to sum to 1.
func (m *Model) FeatureImportances() []float64 { return append([]float64(nil), m.importances...) }

// Params returns the hyperparameters as JSON-style plain data.
func (m *Model) Params() map[string]any {
	b, err := json.Marshal(m.params)
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return map[string]any{"error": err.Error()}
	}
	return out
}

// predictBlock is the rows Predict walks through one tree at a time: a
// block's matrix rows (73 columns on ames: 150 KB) stay in L2 while every
// tree streams through.
const predictBlock = 256

// flatten lays the trees out for Predict's level walk when it pays
// (tree.LevelsPay).
func (m *Model) flatten() {
	if !tree.LevelsPay(m.trees) {
		return
	}
	m.flat = make([]*tree.Flat, len(m.trees))
	for i, t := range m.trees {
		m.flat[i] = tree.NewFlat(t)
	}
}

// Predict writes NumOutputs values per row of x into dst: the mean of the
// trees' predictions (class-1 probability for binary, class probabilities
// for multiclass). Rows are split into blocks predicted in parallel, each
// block walking the trees level by level (tree.Flat) when that pays, row
// by row otherwise; each row's sum runs
// in tree order, so results do not depend on scheduling. A column count
// other than the training one, a dst of the wrong length or a NaN in x is
// an error.
func (m *Model) Predict(dst []float64, x *model.Matrix) error {
	k := m.NumOutputs()
	if err := tree.CheckPredict(dst, x, m.numFeatures, k); err != nil {
		return fmt.Errorf("forest: %w", err)
	}
	inv := 1 / float64(len(m.trees))
	p := x.Cols
	tree.ParallelRows(x.Rows, func(lo, hi int) {
		if m.flat == nil {
			m.walkRows(dst, x, lo, hi)
			return
		}
		idx := make([]int32, min(predictBlock, hi-lo))
		for b := lo; b < hi; b += predictBlock {
			e := min(hi, b+predictBlock)
			out := dst[b*k : e*k]
			clear(out)
			for _, f := range m.flat {
				f.AddTo(out, x.Data[b*p:e*p], e-b, p, idx)
			}
			for i := range out {
				out[i] *= inv
			}
		}
	})
	return nil
}

// walkRows is Predict on rows [lo, hi) by the row walk: each tree in turn
// over the whole block, so that large trees stream through the cache once
// per block.
func (m *Model) walkRows(dst []float64, x *model.Matrix, lo, hi int) {
	k := m.NumOutputs()
	inv := 1 / float64(len(m.trees))
	out := dst[lo*k : hi*k]
	clear(out)
	for _, t := range m.trees {
		for r := lo; r < hi; r++ {
			t.AddValue(dst[r*k:(r+1)*k], t.Leaf(x.Row(r)))
		}
	}
	for i := range out {
		out[i] *= inv
	}
}

// Families returns the "forest" and "extra_trees" families, for all three
// tasks, on ordinal-coded categoricals, unscaled and imputed features.
func Families() []model.Family {
	fam := func(name string, extra bool) model.Family {
		return model.Family{
			Name:    name,
			Tasks:   []model.Task{model.Regression, model.Binary, model.Multiclass},
			Input:   model.Input{OneHot: false, Scale: false, Missing: false},
			Bounded: true,
			New: func(task model.Task, seed uint64, params json.RawMessage) (model.Learner, error) {
				p := Params{Seed: seed, ExtraTrees: extra}
				if err := model.DecodeStrict(params, &p); err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
				if p.ExtraTrees != extra {
					return nil, fmt.Errorf("%s: extra_trees must be %v in this family", name, extra)
				}
				if err := p.Validate(task); err != nil {
					return nil, err
				}
				return p, nil
			},
			Decode: func(data []byte) (model.Model, error) {
				m, err := Decode(data)
				if err != nil {
					return nil, err
				}
				if m.Family() != name {
					return nil, fmt.Errorf("%w: a %s model, not %s", ErrCorrupt, m.Family(), name)
				}
				return m, nil
			},
		}
	}
	return []model.Family{fam(FamilyForest, false), fam(FamilyExtraTrees, true)}
}
