package explain

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

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
	value       []float64    // nout values per node (leaves only used)
	rule        splitRule
	group, nout int
	depth       int
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
func (t *shapTree) finish(cover func(i int) float64, base []float64) {
	n := len(t.left)
	t.zeroL = make([]float64, n)
	mean := make([]float64, n*t.nout)
	var walk func(i int32, d int)
	walk = func(i int32, d int) {
		t.depth = max(t.depth, d)
		if t.left[i] < 0 {
			copy(mean[int(i)*t.nout:], t.value[int(i)*t.nout:int(i+1)*t.nout])
			return
		}
		l, r := t.left[i], t.right[i]
		walk(l, d+1)
		walk(r, d+1)
		cl, cr := cover(int(l)), cover(int(r))
		fl := 0.5 // no training weight below: split the difference
		if cl+cr > 0 {
			fl = cl / (cl + cr)
		}
		t.zeroL[i] = fl
		for k := range t.nout {
			mean[int(i)*t.nout+k] = fl*mean[int(l)*t.nout+k] + (1-fl)*mean[int(r)*t.nout+k]
		}
	}
	walk(0, 0)
	for k := range t.nout {
		base[t.group+k] += mean[k]
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
}

// NewTreeEnsemble flattens m for TreeSHAP. A gbdt model is explained in
// margin space (the raw score before the link, as XGBoost's
// pred_contribs), tree and forest models in prediction space (the value,
// or class probabilities, a forest averaging its trees). Other models give
// ErrUnsupported.
func NewTreeEnsemble(m model.Model) (*TreeEnsemble, error) {
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

// BaseValue returns the expected output per output, from the covers.
func (e *TreeEnsemble) BaseValue() []float64 { return append([]float64(nil), e.base...) }

// Predict writes the explained output (prediction or margin) of every row
// of x into dst (x.Rows×NumOutputs), walking the trees as TreeSHAP does.
func (e *TreeEnsemble) Predict(dst []float64, x *model.Matrix) {
	for r := range x.Rows {
		out := dst[r*e.outputs : (r+1)*e.outputs]
		copy(out, e.offset)
		row := x.Row(r)
		for ti := range e.trees {
			t := &e.trees[ti]
			i := int32(0)
			for t.left[i] >= 0 {
				i = t.hot(i, row)
			}
			for k := range t.nout {
				out[t.group+k] += t.value[int(i)*t.nout+k]
			}
		}
	}
}

// pathElem is one feature on the unique path of Lundberg et al.'s
// Algorithm 2: the fractions of "zero" (feature unknown: cover-weighted)
// and "one" (feature known: follows x) paths flowing through, and the
// permutation weight.
type pathElem struct {
	feature int32
	zero    float64
	one     float64
	pweight float64
}

// shapWorker holds one goroutine's buffers.
type shapWorker struct {
	path []pathElem // (D+2)(D+3)/2 elements: one path per recursion level
	x    []float64
	phi  []float64 // outputs×features for the current row
	f    int
}

// TreeSHAP computes exact path-dependent SHAP values (Lundberg, Erion and
// Lee, 2018, Algorithm 2) of the rows of x: O(T·L·D²) per row for T trees
// of L leaves and depth D. Rows are split over workers goroutines (0
// means GOMAXPROCS); each row's values are computed in tree order by one
// goroutine, so the result does not depend on workers. Missing values
// (NaN) follow the model's own routing. names may be nil.
func (e *TreeEnsemble) TreeSHAP(ctx context.Context, x *model.Matrix, workers int, names []string) (*Values, error) {
	if x == nil || x.Cols != e.features || len(x.Data) != x.Rows*x.Cols {
		return nil, fmt.Errorf("explain: treeshap: matrix has %d columns, the model has %d features", colsOf(x), e.features)
	}
	v := newValues(MethodTree, e.output, x.Rows, e.outputs, e.features, names)
	v.Exact, v.Tolerance = true, 1e-9
	copy(v.BaseValue, e.base)
	if err := parallelRows(ctx, x.Rows, workers, 64, func() func(r int) {
		w := e.newWorker()
		return func(r int) {
			w.x = x.Row(r)
			w.phi = v.Values[r*e.outputs*e.features : (r+1)*e.outputs*e.features]
			for ti := range e.trees {
				w.tree(&e.trees[ti])
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
	return &shapWorker{path: make([]pathElem, 2+l*(l+3)/2+l+1), f: e.features}
}

// tree adds one tree's contributions for the current row to phi.
func (w *shapWorker) tree(t *shapTree) {
	if t.left[0] < 0 {
		return // a single leaf: everything is in the base value
	}
	w.recurse(t, 0, 0, 0, 1, 1, -1)
}

// extend adds a feature with fractions zero and one to the path of
// length depth held at p.
func extend(p []pathElem, depth int, zero, one float64, feature int32) {
	p[depth] = pathElem{feature: feature, zero: zero, one: one}
	if depth == 0 {
		p[0].pweight = 1
	}
	inv := 1 / float64(depth+1)
	for i := depth - 1; i >= 0; i-- {
		p[i+1].pweight += one * p[i].pweight * float64(i+1) * inv
		p[i].pweight = zero * p[i].pweight * float64(depth-i) * inv
	}
}

// unwind removes path element k from the path of length depth (undoing
// extend), shifting the later elements down.
func unwind(p []pathElem, depth, k int) {
	one, zero := p[k].one, p[k].zero
	next := p[depth].pweight
	d1 := float64(depth + 1)
	for i := depth - 1; i >= 0; i-- {
		if one != 0 {
			tmp := p[i].pweight
			p[i].pweight = next * d1 / (float64(i+1) * one)
			next = tmp - p[i].pweight*zero*float64(depth-i)/d1
		} else {
			p[i].pweight = p[i].pweight * d1 / (zero * float64(depth-i))
		}
	}
	for i := k; i < depth; i++ {
		p[i].feature, p[i].zero, p[i].one = p[i+1].feature, p[i+1].zero, p[i+1].one
	}
}

// unwoundSum returns the total permutation weight of the path of length
// depth with element k removed, without modifying it.
func unwoundSum(p []pathElem, depth, k int) float64 {
	one, zero := p[k].one, p[k].zero
	next := p[depth].pweight
	d1 := float64(depth + 1)
	var total float64
	if one != 0 {
		for i := depth - 1; i >= 0; i-- {
			tmp := next * d1 / (float64(i+1) * one)
			total += tmp
			next = p[i].pweight - tmp*zero*float64(depth-i)/d1
		}
	} else if zero != 0 {
		for i := depth - 1; i >= 0; i-- {
			total += p[i].pweight / zero * d1 / float64(depth-i)
		}
	}
	return total
}

// recurse is Algorithm 2's RECURSE at node i. Each call copies its
// parent's path (depth elements at w.path[poff:]) into its own block just
// after the parent's, so siblings never see each other's changes; the
// blocks of one root-to-leaf chain fit in the buffer newWorker sizes.
func (w *shapWorker) recurse(t *shapTree, i int32, poff, depth int, zero, one float64, feature int32) {
	off := poff + depth + 1
	p := w.path[off : off+depth+1]
	copy(p[:depth], w.path[poff:poff+depth])
	extend(p, depth, zero, one, feature)
	if t.left[i] < 0 {
		nout := t.nout
		vals := t.value[int(i)*nout : int(i+1)*nout]
		for k := 1; k <= depth; k++ {
			el := p[k]
			s := unwoundSum(p, depth, k) * (el.one - el.zero)
			for o, v := range vals {
				w.phi[(t.group+o)*w.f+int(el.feature)] += s * v
			}
		}
		return
	}
	hot := t.hot(i, w.x)
	cold, hotZero := t.right[i], t.zeroL[i]
	if hot != t.left[i] {
		cold, hotZero = t.left[i], 1-hotZero
	}
	coldZero := 1 - hotZero
	inZero, inOne := 1.0, 1.0
	f := t.feature[i]
	k := 1
	for ; k <= depth; k++ {
		if p[k].feature == f {
			break
		}
	}
	if k <= depth {
		inZero, inOne = p[k].zero, p[k].one
		unwind(p, depth, k)
		depth--
	}
	w.recurse(t, hot, off, depth+1, hotZero*inZero, inOne, f)
	if coldZero*inZero != 0 { // a cold branch without cover adds nothing
		w.recurse(t, cold, off, depth+1, coldZero*inZero, 0, f)
	}
}

// parallelRows runs the function newFn returns for every row in [0, n)
// on up to workers goroutines (0 means GOMAXPROCS), each with its own
// function (and so its own buffers), in blocks of block rows. It checks
// ctx between blocks.
func parallelRows(ctx context.Context, n, workers, block int, newFn func() func(r int)) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	blocks := (n + block - 1) / block
	workers = max(1, min(workers, blocks))
	var mu sync.Mutex
	next := 0
	var wg sync.WaitGroup
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
				for r := b * block; r < min(n, (b+1)*block); r++ {
					fn(r)
				}
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
