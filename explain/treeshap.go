package explain

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/tabforge/tabforge/internal/par"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/forest"
	"github.com/tabforge/tabforge/model/gbdt"
	"github.com/tabforge/tabforge/model/tree"
)

// ErrUnsupported reports a model an exact explainer cannot explain; the
// dispatcher falls back to KernelSHAP on it.
var ErrUnsupported = errors.New("explain: model not supported by this explainer")

// splitRule is how an internal node routes a row.
type splitRule uint8

const (
	// ruleLE: x <= thr goes left, anything else (NaN too) right; package
	// tree's rule.
	ruleLE splitRule = iota
	// ruleLT32: float32(x) < thr goes left, NaN to the default side;
	// package gbdt's (and XGBoost's) rule.
	ruleLT32
)

// shapTree is one tree flattened for TreeSHAP. Leaf values are already
// scaled (1/T for a forest) and write nout consecutive outputs starting at
// output group.
type shapTree struct {
	left, right []int32 // −1 at leaves
	feature     []int32
	thr         []float64
	defaultLeft []bool       // ruleLT32 only
	cats        []*[4]uint64 // ruleLT32 categorical splits; nil slice if none
	zeroL       []float64    // cover(left)/cover(node) at internal nodes
	// value holds nout values per node (leaves only used), or, when
	// vstart is set (a multiclass CART tree), the leaf table package tree
	// keeps: leaf i's nonzero values are value[vstart[i]:vstart[i+1]],
	// of the outputs in vout. Dense values cost a forest of 200 classes
	// 1,600 bytes a node, most of them zeros.
	value       []float64
	vstart      []int32
	vout        []int32
	rule        splitRule
	group, nout int
	depth       int
	fast        *leafTables // nil: use the recursion
}

// leafValues returns leaf i's stored values and their outputs (counted
// from group); outs nil means vals[o] is output o's.
func (t *shapTree) leafValues(i int32) (vals []float64, outs []int32) {
	if t.vstart == nil {
		return t.value[int(i)*t.nout : int(i+1)*t.nout], nil
	}
	lo, hi := t.vstart[i], t.vstart[i+1]
	return t.value[lo:hi], t.vout[lo:hi]
}

// hot returns the child row x goes to at internal node i.
func (t *shapTree) hot(i int32, x []float64) int32 {
	v := x[t.feature[i]]
	if t.rule == ruleLE {
		if v <= t.thr[i] {
			return t.left[i]
		}
		return t.right[i]
	}
	if v != v {
		if t.defaultLeft[i] {
			return t.left[i]
		}
		return t.right[i]
	}
	f := float32(v)
	if t.cats != nil && t.cats[i] != nil {
		if f >= 0 && f < 256 && f == float32(int(f)) && t.cats[i][int(f)>>6]>>(int(f)&63)&1 == 1 {
			return t.left[i]
		}
		return t.right[i]
	}
	if float64(f) < t.thr[i] {
		return t.left[i]
	}
	return t.right[i]
}

// finish computes the zero fractions, the depth and the tree's expected
// value per output (added into base). Covers of the two children are used
// as the denominator rather than the node's own cover, so fractions sum
// to one exactly and local accuracy holds to rounding even when stored
// covers were summed in another order (XGBoost's float32 sum_hessian).
//
// The means are kept for one node per depth (means[d] for the node being
// finished at depth d), not per node: nout values a node took a forest
// of 200 classes to gigabytes.
func (t *shapTree) finish(cover func(i int) float64, base []float64) {
	n := len(t.left)
	t.zeroL = make([]float64, n)
	var means [][]float64
	var walk func(i int32, d int)
	walk = func(i int32, d int) {
		t.depth = max(t.depth, d)
		if len(means) <= d {
			means = append(means, make([]float64, t.nout))
		}
		mean := means[d]
		if t.left[i] < 0 {
			clear(mean)
			vals, outs := t.leafValues(i)
			for e, v := range vals {
				if outs != nil {
					mean[outs[e]] = v
				} else {
					mean[e] = v
				}
			}
			return
		}
		l, r := t.left[i], t.right[i]
		walk(l, d+1)
		copy(mean, means[d+1])
		walk(r, d+1)
		cl, cr := cover(int(l)), cover(int(r))
		fl := 0.5 // no training weight below: split the difference
		if cl+cr > 0 {
			fl = cl / (cl + cr)
		}
		t.zeroL[i] = fl
		for k, mr := range means[d+1] {
			mean[k] = fl*mean[k] + (1-fl)*mr
		}
	}
	walk(0, 0)
	for k, v := range means[0] {
		base[t.group+k] += v
	}
}

// TreeEnsemble is a model flattened for TreeSHAP: any package tree,
// forest or gbdt model. It is immutable and safe for concurrent use.
type TreeEnsemble struct {
	trees    []shapTree
	features int
	outputs  int
	base     []float64 // expected output: offset + each tree's cover-weighted mean
	offset   []float64 // what the model adds before any tree (gbdt base margins)
	output   Output
	maxDepth int
	coef     *coefTables
	linear   []linearTerm // added to every output (a trend-target model's trend)
}

// linearTerm is coef·(x[feature] − mean): its exact SHAP value, with no
// interactions (a missing value counts as the mean, as model.TrendModel
// predicts it).
type linearTerm struct {
	feature    int
	coef, mean float64
}

func (l linearTerm) phi(row []float64) float64 {
	if x := row[l.feature]; !math.IsNaN(x) {
		return l.coef * (x - l.mean)
	}
	return 0
}

// linearPart is a model whose prediction is an inner model's plus a
// linear term in a few features (model.TrendModel).
type linearPart interface {
	Unwrap() model.Model
	LinearTerm() (index []int, coef, mean []float64, intercept float64)
}

// unwrapper is a model that predicts through a link from an inner model
// (model.LogTargetModel); explanations decompose the inner model's output.
type unwrapper interface{ Unwrap() model.Model }

// NewTreeEnsemble flattens m for TreeSHAP. A gbdt model is explained in
// margin space (the raw score before the link, as XGBoost's
// pred_contribs), tree and forest models in prediction space (the value,
// or class probabilities, a forest averaging its trees). Other models give
// ErrUnsupported. A model fitted on a transformed target (log(1+y)) is
// explained on that scale, its margin.
func NewTreeEnsemble(m model.Model) (*TreeEnsemble, error) {
	e, err := flatten(m)
	if err != nil {
		return nil, err
	}
	return e.done(), nil
}

// flatten is NewTreeEnsemble without TreeSHAP's coefficient and leaf
// tables, which interventional SHAP does not use.
func flatten(m model.Model) (*TreeEnsemble, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: no model", ErrUnsupported)
	}
	if lp, ok := m.(linearPart); ok {
		e, err := flatten(lp.Unwrap())
		if err != nil {
			return nil, err
		}
		return e.withLinear(lp.LinearTerm())
	}
	if u, ok := m.(unwrapper); ok {
		e, err := flatten(u.Unwrap())
		if err == nil {
			e.output = OutputMargin
		}
		return e, err
	}
	switch m := m.(type) {
	case *tree.Model:
		e := &TreeEnsemble{features: m.NumFeatures(), outputs: m.NumOutputs(), output: OutputPrediction}
		e.base, e.offset = make([]float64, e.outputs), make([]float64, e.outputs)
		e.add(cartTree(m.Tree(), 1, e.base))
		return e, nil
	case *forest.Model:
		ts := m.Trees()
		e := &TreeEnsemble{features: m.NumFeatures(), outputs: m.NumOutputs(), output: OutputPrediction}
		e.base, e.offset = make([]float64, e.outputs), make([]float64, e.outputs)
		for _, t := range ts {
			e.add(cartTree(t, 1/float64(len(ts)), e.base))
		}
		return e, nil
	case *gbdt.Model:
		e := &TreeEnsemble{features: m.NumFeatures(), outputs: m.NumGroups(), output: OutputMargin}
		e.base, e.offset = make([]float64, e.outputs), make([]float64, e.outputs)
		for k := range e.outputs {
			e.base[k] = m.BaseMargin(k)
			e.offset[k] = m.BaseMargin(k)
		}
		for i := range m.NumTrees() {
			e.add(gbdtTree(m.Tree(i), m.TreeGroup(i), e.base))
		}
		return e, nil
	}
	return nil, fmt.Errorf("%w: TreeSHAP explains tree, forest and gbdt models, not %s", ErrUnsupported, m.Family())
}

// RowCost estimates the work of explaining one row: the sum over trees
// of nodes × depth, as TreeSHAP's recursion carries a path of up to depth
// entries through every node. A forest of fully grown trees on tens of
// thousands of rows costs a million times what a depth-6 booster does;
// callers size how many rows they explain by it.
func (e *TreeEnsemble) RowCost() float64 {
	c := 0.0
	for i := range e.trees {
		c += float64(len(e.trees[i].left)) * float64(max(1, e.trees[i].depth))
	}
	return c
}

func (e *TreeEnsemble) add(t shapTree) {
	e.trees = append(e.trees, t)
	e.maxDepth = max(e.maxDepth, t.depth)
}

func cartTree(src *tree.Tree, scale float64, base []float64) shapTree {
	t := shapTree{left: src.Left, right: src.Right, feature: src.Feature, thr: src.Threshold,
		rule: ruleLE, nout: src.NumOutputs}
	t.value = make([]float64, len(src.Value))
	for i, v := range src.Value {
		t.value[i] = v * scale
	}
	if src.NumOutputs > 1 { // the tree's leaf table, shared: both are read-only
		t.vstart, t.vout = src.ValueStart, src.ValueClass
	}
	t.finish(func(i int) float64 { return src.Cover[i] }, base)
	return t
}

func gbdtTree(src *gbdt.Tree, group int, base []float64) shapTree {
	n := src.NumNodes()
	t := shapTree{left: make([]int32, n), right: make([]int32, n), feature: make([]int32, n),
		thr: make([]float64, n), defaultLeft: make([]bool, n), value: make([]float64, n),
		rule: ruleLT32, group: group, nout: 1}
	for i := range n {
		t.left[i], t.right[i] = int32(src.Left(i)), int32(src.Right(i))
		t.feature[i] = int32(src.Feature(i))
		t.thr[i] = float64(src.Threshold(i))
		t.defaultLeft[i] = src.DefaultLeft(i)
		t.value[i] = src.Value(i)
		if src.IsCategorical(i) {
			if t.cats == nil {
				t.cats = make([]*[4]uint64, n)
			}
			set := new([4]uint64)
			for _, c := range src.Categories(i) {
				set[c>>6] |= 1 << (c & 63)
			}
			t.cats[i] = set
		}
	}
	t.finish(src.Cover, base)
	return t
}

// NumFeatures returns the number of input columns.
func (e *TreeEnsemble) NumFeatures() int { return e.features }

// NumOutputs returns the number of explained outputs.
func (e *TreeEnsemble) NumOutputs() int { return e.outputs }

// Output returns the quantity the SHAP values decompose.
func (e *TreeEnsemble) Output() Output { return e.output }

// withLinear adds intercept + Σ coef_j·(x[index_j] − mean_j) to every
// output: the base value gains the intercept, and each feature's SHAP
// value its own term.
func (e *TreeEnsemble) withLinear(index []int, coef, mean []float64, intercept float64) (*TreeEnsemble, error) {
	for j, f := range index {
		if f < 0 || f >= e.features {
			return nil, fmt.Errorf("explain: linear term on feature %d of %d", f, e.features)
		}
		e.linear = append(e.linear, linearTerm{feature: f, coef: coef[j], mean: mean[j]})
	}
	for k := range e.outputs {
		e.base[k] += intercept
		e.offset[k] += intercept
	}
	return e, nil
}

// addLinear adds the linear terms' SHAP values of row to phi
// (outputs×features).
func (e *TreeEnsemble) addLinear(phi, row []float64) {
	for _, l := range e.linear {
		v := l.phi(row)
		for k := range e.outputs {
			phi[k*e.features+l.feature] += v
		}
	}
}

// BaseValue returns the expected output per output, from the covers.
func (e *TreeEnsemble) BaseValue() []float64 { return append([]float64(nil), e.base...) }

// Predict writes the explained output (prediction or margin) of every row
// of x into dst (x.Rows×NumOutputs), walking the trees as TreeSHAP does.
func (e *TreeEnsemble) Predict(dst []float64, x *model.Matrix) {
	for r := range x.Rows {
		out := dst[r*e.outputs : (r+1)*e.outputs]
		copy(out, e.offset)
		row := x.Row(r)
		for _, l := range e.linear {
			for k := range out {
				out[k] += l.phi(row)
			}
		}
		for ti := range e.trees {
			t := &e.trees[ti]
			i := int32(0)
			for t.left[i] >= 0 {
				i = t.hot(i, row)
			}
			vals, outs := t.leafValues(i)
			for e, v := range vals {
				if outs != nil {
					e = int(outs[e])
				}
				out[t.group+e] += v
			}
		}
	}
}

// shapWorker holds one goroutine's buffers.
type shapWorker struct {
	stack []stackItem
	c     *coefTables
	path  []pathElem // (D+2)(D+3)/2 elements: one path per recursion level
	x     []float64
	phi   []float64 // outputs×features for the current row
	f     int
}

// TreeSHAP computes exact path-dependent SHAP values (Lundberg, Erion and
// Lee, 2018) of the rows of x. Trees whose leaf paths split on at most
// fastMaxUnique distinct features use leaf tables built once by
// NewTreeEnsemble (Yang's Fast TreeSHAP v2: O(L·D) per row and tree, for
// L leaves of depth D); deeper trees run Algorithm 2's recursion
// (O(L·D²)) with preallocated path buffers. Rows are split over workers
// goroutines (0 means GOMAXPROCS) in blocks taken through the trees
// together; each row sums its trees in tree order, so the result does not
// depend on workers. Missing values (NaN) follow the model's own routing.
// names may be nil.
func (e *TreeEnsemble) TreeSHAP(ctx context.Context, x *model.Matrix, workers int, names []string) (*Values, error) {
	if x == nil || x.Cols != e.features || len(x.Data) != x.Rows*x.Cols {
		return nil, fmt.Errorf("explain: treeshap: matrix has %d columns, the model has %d features", colsOf(x), e.features)
	}
	v := newValues(MethodTree, e.output, x.Rows, e.outputs, e.features, names)
	v.Exact, v.Tolerance = true, 1e-9
	copy(v.BaseValue, e.base)
	// Blocks of rows go through the trees one tree at a time, so a tree's
	// leaf tables stay in cache for the whole block; each row still sums
	// its trees in tree order, so blocking does not change a bit.
	per := e.outputs * e.features
	if err := parallelBlocks(ctx, x.Rows, workers, shapBlock, func() func(lo, hi int) {
		w := e.newWorker()
		return func(lo, hi int) {
			for ti := range e.trees {
				t := &e.trees[ti]
				for r := lo; r < hi; r++ {
					w.x = x.Row(r)
					w.phi = v.Values[r*per : (r+1)*per]
					w.tree(t)
				}
			}
			if len(e.linear) > 0 {
				for r := lo; r < hi; r++ {
					e.addLinear(v.Values[r*per:(r+1)*per], x.Row(r))
				}
			}
		}
	}); err != nil {
		return nil, err
	}
	return v, nil
}

func colsOf(x *model.Matrix) int {
	if x == nil {
		return 0
	}
	return x.Cols
}

func (e *TreeEnsemble) newWorker() *shapWorker {
	// The call at path length d starts at 1 + d(d+3)/2 and holds d+1
	// elements; the longest path has maxDepth+1 elements.
	l := e.maxDepth + 1
	return &shapWorker{c: e.coef, path: make([]pathElem, 2+l*(l+3)/2+l+1), f: e.features}
}

// tree adds one tree's contributions for the current row to phi.
func (w *shapWorker) tree(t *shapTree) {
	if t.left[0] < 0 {
		return // a single leaf: everything is in the base value
	}
	if t.fast != nil {
		w.fastTree(t)
		return
	}
	w.recurse(t, 0, 0, 0, 1, 1, -1)
}

// shapBlock is the rows TreeSHAP takes through the trees together.
const shapBlock = 32

// parallelRows runs the function newFn returns for every row in [0, n)
// on up to workers goroutines (0 means GOMAXPROCS), each with its own
// function (and so its own buffers), in blocks of block rows. It checks
// ctx between blocks.
func parallelRows(ctx context.Context, n, workers, block int, newFn func() func(r int)) error {
	return parallelBlocks(ctx, n, workers, block, func() func(lo, hi int) {
		fn := newFn()
		return func(lo, hi int) {
			for r := lo; r < hi; r++ {
				fn(r)
			}
		}
	})
}

// parallelBlocks is parallelRows calling fn once per block [lo, hi).
func parallelBlocks(ctx context.Context, n, workers, block int, newFn func() func(lo, hi int)) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	blocks := (n + block - 1) / block
	workers = max(1, min(workers, blocks))
	var mu sync.Mutex
	next := 0
	var wg par.Group // a panic in fn reaches the caller's goroutine
	for range workers {
		wg.Go(func() {
			fn := newFn()
			for {
				if ctx.Err() != nil {
					return
				}
				mu.Lock()
				b := next
				next++
				mu.Unlock()
				if b >= blocks {
					return
				}
				fn(b*block, min(n, (b+1)*block))
			}
		})
	}
	wg.Wait()
	return ctx.Err()
}

// checkFinite reports a NaN or infinite value in v.
func checkFinite(v []float64) error {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("explain: value %d is %v", i, x)
		}
	}
	return nil
}

// done builds the coefficient tables once every tree is added.
// Trees get leaf tables (fasttree.go) while their total stays within
// fastMaxFloats, in tree order.
func (e *TreeEnsemble) done() *TreeEnsemble {
	e.coef = newCoefTables(e.maxDepth + 2)
	total := 0
	for i := range e.trees {
		t := &e.trees[i]
		if t.left[0] < 0 {
			continue
		}
		if n := t.tableSize(); n >= 0 && total+n <= fastMaxFloats {
			total += n
			t.buildTables(e.coef)
		}
	}
	return e
}
