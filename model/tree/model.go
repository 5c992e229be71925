package tree

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"github.com/tabforge/tabforge/internal/binenc"
	"github.com/tabforge/tabforge/internal/formatversion"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/tabforge/tabforge/internal/par"
	"github.com/tabforge/tabforge/model"
)

// FamilyName is the registry name of the CART family.
const FamilyName = "tree"

// streamTree tags the random stream of a single tree (see Stream).
const streamTree = 1

// Stream returns the random stream for unit i of a stage, derived from
// seed alone, so results do not depend on scheduling: a PCG seeded with
// (seed, stage<<32 | i).
func Stream(seed uint64, stage uint32, i int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(stage)<<32|uint64(uint32(i))))
}

// Model is a fitted CART tree. It is immutable and safe for concurrent use.
type Model struct {
	params     Params
	task       model.Task
	numClasses int
	names      []string
	tree       *Tree
}

var _ model.Model = (*Model)(nil)

// Fit trains a tree on d; see Train.
func (p Params) Fit(ctx context.Context, d *model.Dataset, o model.FitOptions) (model.Model, error) {
	m, err := Train(ctx, p, d, o)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Train validates p and d and grows one tree. Options only bound the
// parallelism of the column ranking; the tree does not depend on them.
func Train(ctx context.Context, p Params, d *model.Dataset, o model.FitOptions) (*Model, error) {
	if d == nil {
		return nil, fmt.Errorf("tree: nil dataset")
	}
	if err := p.Validate(d.Task); err != nil {
		return nil, err
	}
	pr, err := Prepare(ctx, d, o.NumWorkers())
	if err != nil {
		return nil, err
	}
	t, err := pr.Grow(ctx, p, nil, Stream(p.Seed, streamTree, 0))
	if err != nil {
		return nil, err
	}
	m := &Model{params: p, task: d.Task, numClasses: pr.numClasses, tree: t}
	if d.FeatureNames != nil {
		m.names = append([]string(nil), d.FeatureNames...)
	}
	return m, nil
}

// Family returns "tree".
func (m *Model) Family() string { return FamilyName }

// Task returns the task the model was trained for.
func (m *Model) Task() model.Task { return m.task }

// NumClasses returns the number of classes (0 for regression).
func (m *Model) NumClasses() int { return m.numClasses }

// NumOutputs is 1 for regression and binary, NumClasses for multiclass.
func (m *Model) NumOutputs() int { return m.tree.NumOutputs }

// NumFeatures returns the number of columns the model expects.
func (m *Model) NumFeatures() int { return m.tree.NumFeatures }

// FeatureNames returns the training column names (nil if none were given).
func (m *Model) FeatureNames() []string { return append([]string(nil), m.names...) }

// Tree returns the fitted tree; it must not be modified.
func (m *Model) Tree() *Tree { return m.tree }

// Params returns the hyperparameters as JSON-style plain data.
func (m *Model) Params() map[string]any { return paramsMap(m.params) }

// FeatureImportances returns the impurity-decrease importances normalised
// to sum to 1 (all zeros for a single-leaf tree), like scikit-learn's
// feature_importances_.
func (m *Model) FeatureImportances() []float64 {
	imp := make([]float64, m.tree.NumFeatures)
	m.tree.Importances(imp)
	Normalize(imp)
	return imp
}

// Normalize scales v to sum to 1 in place, leaving it unchanged when the
// sum is not positive.
func Normalize(v []float64) {
	var s float64
	for _, x := range v {
		s += x
	}
	if s > 0 {
		for i := range v {
			v[i] /= s
		}
	}
}

func paramsMap(p any) map[string]any {
	b, err := json.Marshal(p)
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return map[string]any{"error": err.Error()}
	}
	return out
}

// CheckPredict validates a Predict call for a model with numFeatures
// columns and numOutputs values per row: matching column count, dst length
// and no NaN in x.
func CheckPredict(dst []float64, x *model.Matrix, numFeatures, numOutputs int) error {
	switch {
	case x == nil:
		return fmt.Errorf("predict: nil matrix")
	case x.Cols != numFeatures:
		return fmt.Errorf("predict: matrix has %d columns, the model was trained on %d", x.Cols, numFeatures)
	case len(x.Data) != x.Rows*x.Cols:
		return fmt.Errorf("predict: matrix data has %d values, want %d×%d", len(x.Data), x.Rows, x.Cols)
	case len(dst) != x.Rows*numOutputs:
		return fmt.Errorf("predict: dst has length %d, want %d rows × %d outputs", len(dst), x.Rows, numOutputs)
	}
	for i, v := range x.Data {
		if math.IsNaN(v) {
			return fmt.Errorf("predict: X[%d, %d] is NaN: impute missing values first", i/x.Cols, i%x.Cols)
		}
	}
	return nil
}

// Predict writes NumOutputs values per row of x into dst: the predicted
// value, the probability of class 1 (binary) or the class probabilities
// (multiclass). A column count other than the training one, a dst of the
// wrong length or a NaN in x is an error.
func (m *Model) Predict(dst []float64, x *model.Matrix) error {
	if err := CheckPredict(dst, x, m.tree.NumFeatures, m.tree.NumOutputs); err != nil {
		return fmt.Errorf("tree: %w", err)
	}
	t, k := m.tree, m.tree.NumOutputs
	ParallelRows(x.Rows, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			t.LeafValue(dst[i*k:(i+1)*k], t.Leaf(x.Row(i)))
		}
	})
	return nil
}

// predictBlock is the most rows one goroutine predicts at a time, and
// minBlock the fewest worth a goroutine of their own.
const predictBlock, minBlock = 4096, 256

// ParallelRows calls fn on consecutive row blocks [lo, hi) covering
// [0, rows), on up to GOMAXPROCS goroutines when there is more than one
// block, and returns when all calls have returned. Blocks are disjoint, so
// fn may write its rows of a shared output without locking. The number of
// blocks is a multiple of the workers, so they all get the same share
// (10,000 rows on 2 workers: 4 blocks of 2,500, not 4096+4096+1808); a
// block stays as large as that allows, since each block streams every
// tree of a forest through the cache once.
func ParallelRows(rows int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), rows/minBlock)
	if workers <= 1 {
		fn(0, rows)
		return
	}
	per := (rows + workers*predictBlock - 1) / (workers * predictBlock) // blocks per worker
	size := (rows + workers*per - 1) / (workers * per)
	blocks := (rows + size - 1) / size
	var wg par.Group // a panic in fn reaches the caller's goroutine
	var mu sync.Mutex
	next := 0
	for range workers {
		wg.Go(func() {
			for {
				mu.Lock()
				b := next
				next++
				mu.Unlock()
				if b >= blocks {
					return
				}
				fn(b*size, min(rows, (b+1)*size))
			}
		})
	}
	wg.Wait()
}

// modelMagic starts an encoded Model.
const modelMagic = "TFcart1\x00"

// MarshalBinary encodes the model: a magic string, the params as JSON,
// the task, class count and feature names, then the tree. Equal models
// give equal bytes.
func (m *Model) MarshalBinary() ([]byte, error) {
	b := []byte(modelMagic)
	pj, err := json.Marshal(m.params)
	if err != nil {
		return nil, fmt.Errorf("tree: encode params: %w", err)
	}
	b = binenc.AppendBytes(b, pj)
	b = binenc.AppendBytes(b, []byte(m.task))
	b = binary.LittleEndian.AppendUint32(b, uint32(m.numClasses))
	b = binenc.AppendStrings(b, m.names)
	return m.tree.AppendBinary(b)
}

// Decode restores a Model encoded by MarshalBinary. Corrupt or foreign
// data is an error wrapping ErrCorrupt.
func Decode(data []byte) (*Model, error) {
	if len(data) < len(modelMagic) || string(data[:len(modelMagic)]) != modelMagic {
		if err := formatversion.CheckTag("tree model", string(data[:min(len(modelMagic), len(data))]), "TFcart", 1); err != nil {
			return nil, fmt.Errorf("tree: %w", err)
		}
		return nil, fmt.Errorf("%w: not a tree model", ErrCorrupt)
	}
	r := binenc.Reader{Data: data[len(modelMagic):], Corrupt: ErrCorrupt}
	pj, task, nc, names := r.Bytes(), r.Bytes(), r.Uint32(), r.Strings()
	if r.Err != nil {
		return nil, r.Err
	}
	m := &Model{task: model.Task(task), numClasses: int(nc), names: names}
	if err := model.DecodeStrict(pj, &m.params); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	t := new(Tree)
	if err := t.UnmarshalBinary(r.Data); err != nil {
		return nil, err
	}
	if err := checkHead(m.task, m.numClasses, len(names), t); err != nil {
		return nil, err
	}
	m.tree = t
	return m, nil
}

// checkHead checks that a decoded tree agrees with its model's header.
func checkHead(task model.Task, numClasses, numNames int, t *Tree) error {
	if _, err := model.ParseTask(string(task)); err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	want := 1
	if task == model.Multiclass {
		want = numClasses
	}
	if t.NumOutputs != want || (task.IsClassification() && numClasses < 2) {
		return fmt.Errorf("%w: %s model with %d classes has %d outputs", ErrCorrupt, task, numClasses, t.NumOutputs)
	}
	if numNames != 0 && numNames != t.NumFeatures {
		return fmt.Errorf("%w: %d feature names for %d features", ErrCorrupt, numNames, t.NumFeatures)
	}
	return nil
}

// CheckTree reports whether a decoded tree fits a model header; package
// forest uses it for each of its trees.
func CheckTree(task model.Task, numClasses, numFeatures int, t *Tree) error {
	if err := checkHead(task, numClasses, 0, t); err != nil {
		return err
	}
	if t.NumFeatures != numFeatures {
		return fmt.Errorf("%w: tree has %d features, model %d", ErrCorrupt, t.NumFeatures, numFeatures)
	}
	return nil
}

// Families returns the "tree" family: CART for all three tasks, on
// ordinal-coded categoricals, unscaled and imputed features.
func Families() []model.Family {
	return []model.Family{{
		Name:    FamilyName,
		Tasks:   []model.Task{model.Regression, model.Binary, model.Multiclass},
		Input:   model.Input{OneHot: false, Scale: false, Missing: false},
		Bounded: true,
		New: func(task model.Task, seed uint64, params json.RawMessage) (model.Learner, error) {
			p := Params{Seed: seed}
			if err := model.DecodeStrict(params, &p); err != nil {
				return nil, fmt.Errorf("tree: %w", err)
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
			return m, nil
		},
	}}
}
