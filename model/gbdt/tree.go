package gbdt

import (
	"errors"
	"fmt"
	"math"
)

// Tree is one fitted regression tree stored as flat arrays indexed by node
// id; node 0 is the root. An internal node i sends a row left when
// float32(x[Feature(i)]) < Threshold(i), to DefaultLeft's side when the
// value is missing (NaN), and right otherwise. A Tree is immutable; its
// methods are read-only and safe for concurrent use.
type Tree struct {
	left, right []int32 // −1 at leaves
	feature     []int32
	threshold   []float32
	defaultLeft []bool
	value       []float32    // leaf value; at internal nodes the node's own weight
	cover       []float64    // sum of hessians of the training rows in the node
	gain        []float64    // loss reduction of the split; 0 at leaves
	cats        []*[4]uint64 // categorical splits: the codes that go left; nil slice if none
}

// NumNodes returns the number of nodes, internal and leaves.
func (t *Tree) NumNodes() int { return len(t.left) }

// IsLeaf reports whether node i is a leaf.
func (t *Tree) IsLeaf(i int) bool { return t.left[i] < 0 }

// Left returns node i's left child, or −1 at a leaf.
func (t *Tree) Left(i int) int { return int(t.left[i]) }

// Right returns node i's right child, or −1 at a leaf.
func (t *Tree) Right(i int) int { return int(t.right[i]) }

// Feature returns the feature node i splits on (0 at leaves).
func (t *Tree) Feature(i int) int { return int(t.feature[i]) }

// Threshold returns node i's split threshold: rows with
// float32(x) < Threshold go left. It is 0 for categorical splits.
func (t *Tree) Threshold(i int) float32 { return t.threshold[i] }

// IsCategorical reports whether node i splits by a set of category codes
// (see Params.CategoricalSplits) rather than a threshold.
func (t *Tree) IsCategorical(i int) bool { return t.cats != nil && t.cats[i] != nil }

// Categories returns the category codes that go left at a categorical
// node i, in increasing order (nil for other nodes). Other codes go
// right; missing values follow DefaultLeft.
func (t *Tree) Categories(i int) []int {
	if !t.IsCategorical(i) {
		return nil
	}
	var out []int
	for c := range 256 {
		if t.cats[i][c>>6]>>(c&63)&1 == 1 {
			out = append(out, c)
		}
	}
	return out
}

// hasCats reports whether any node of t is a categorical split.
func (t *Tree) hasCats() bool {
	for _, c := range t.cats {
		if c != nil {
			return true
		}
	}
	return false
}

// catLeft reports whether value x goes left at categorical node i.
func catLeft(set *[4]uint64, x float32) bool {
	if !(x >= 0 && x < 256) || x != float32(int(x)) {
		return false
	}
	c := int(x)
	return set[c>>6]>>(c&63)&1 == 1
}

// DefaultLeft reports whether missing values go left at node i.
func (t *Tree) DefaultLeft(i int) bool { return t.defaultLeft[i] }

// Value returns node i's value: at a leaf, what the tree adds to the
// margin (learning rate included); at an internal node, the value the node
// would have as a leaf (XGBoost's base_weight).
func (t *Tree) Value(i int) float64 { return float64(t.value[i]) }

// Cover returns the sum of training hessians (for squared error, the
// training weight) of the rows that reached node i, as TreeSHAP needs.
func (t *Tree) Cover(i int) float64 { return t.cover[i] }

// Gain returns the loss reduction of node i's split, 0 at leaves.
func (t *Tree) Gain(i int) float64 { return t.gain[i] }

// Depth returns the number of edges on the longest root-to-leaf path.
func (t *Tree) Depth() int {
	var walk func(i, d int) int
	walk = func(i, d int) int {
		if t.left[i] < 0 {
			return d
		}
		return max(walk(int(t.left[i]), d+1), walk(int(t.right[i]), d+1))
	}
	return walk(0, 0)
}

// errTree reports a structurally invalid tree in a decoded or imported
// model.
var errTree = errors.New("invalid tree")

// check verifies t's arrays: equal lengths, a proper binary tree rooted at
// node 0 where every node is reached once, features below numFeature,
// thresholds not NaN and finite leaf values.
func (t *Tree) check(numFeature int) error {
	n := len(t.left)
	if n == 0 {
		return fmt.Errorf("%w: no nodes", errTree)
	}
	for _, l := range []int{len(t.right), len(t.feature), len(t.threshold), len(t.defaultLeft), len(t.value), len(t.cover), len(t.gain)} {
		if l != n {
			return fmt.Errorf("%w: node arrays of different lengths", errTree)
		}
	}
	if t.cats != nil && len(t.cats) != n {
		return fmt.Errorf("%w: %d category sets for %d nodes", errTree, len(t.cats), n)
	}
	seen := make([]bool, n)
	stack := []int32{0}
	seen[0] = true
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		l, r := t.left[i], t.right[i]
		if l < 0 || r < 0 {
			if l != r && (l >= 0 || r >= 0) {
				return fmt.Errorf("%w: node %d has one child", errTree, i)
			}
			if v := t.value[i]; math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("%w: leaf %d has value %v", errTree, i, v)
			}
			continue
		}
		if f := t.feature[i]; f < 0 || int(f) >= numFeature {
			return fmt.Errorf("%w: node %d splits on feature %d of %d", errTree, i, f, numFeature)
		}
		if math.IsNaN(float64(t.threshold[i])) {
			return fmt.Errorf("%w: node %d has a NaN threshold", errTree, i)
		}
		for _, c := range []int32{l, r} {
			if int(c) >= n || seen[c] {
				return fmt.Errorf("%w: node %d has child %d (nodes: %d, or reached twice)", errTree, i, c, n)
			}
			seen[c] = true
			stack = append(stack, c)
		}
	}
	return nil
}

// pnode is a node of a tree packed for prediction: 16 bytes, children
// stored next to each other. A leaf loops to itself: its threshold is NaN,
// so every row "goes right" to left+1 = the leaf itself (missing values
// take miss = the leaf), which lets rows walk a fixed number of steps
// without testing for leaves.
type pnode struct {
	thr  float32 // split threshold; NaN at a leaf
	feat int32   // split feature; 0 at a leaf
	left int32   // left child; the right child is left+1
	miss int32   // the child missing values go to
}

// packedTree is a tree laid out for prediction.
type packedTree struct {
	nodes []pnode
	vals  []float32 // leaf values by packed node index
	depth int       // steps from the root to the deepest leaf
	// cats holds the left sets of categorical nodes by packed index; nil
	// when the tree has none (the fast path). Their feat has catFlag set.
	cats map[int32]*[4]uint64
}

// catFlag marks a packed node's feature as a categorical split.
const catFlag = 1 << 30

// pack lays t out breadth-first with siblings adjacent, the layout the
// predictor walks.
func (t *Tree) pack() packedTree {
	out := packedTree{nodes: make([]pnode, 1, t.NumNodes()), vals: make([]float32, 1, t.NumNodes())}
	type item struct{ src, dst, depth int32 }
	queue := []item{{0, 0, 0}}
	nan := float32(math.NaN())
	for q := 0; q < len(queue); q++ {
		it := queue[q]
		s := it.src
		out.depth = max(out.depth, int(it.depth))
		if t.left[s] < 0 {
			out.nodes[it.dst] = pnode{thr: nan, left: it.dst - 1, miss: it.dst}
			out.vals[it.dst] = t.value[s]
			continue
		}
		l := int32(len(out.nodes))
		out.nodes = append(out.nodes, pnode{}, pnode{})
		out.vals = append(out.vals, 0, 0)
		miss := l + 1
		if t.defaultLeft[s] {
			miss = l
		}
		out.nodes[it.dst] = pnode{thr: t.threshold[s], feat: t.feature[s], left: l, miss: miss}
		if t.IsCategorical(int(s)) {
			if out.cats == nil {
				out.cats = map[int32]*[4]uint64{}
			}
			out.cats[it.dst] = t.cats[s]
			out.nodes[it.dst].feat |= catFlag
		}
		queue = append(queue, item{t.left[s], l, it.depth + 1}, item{t.right[s], l + 1, it.depth + 1})
	}
	return out
}

// step moves from node n one level down for the row whose float32
// features start at xf[base]: left when x < thr, to miss when x is NaN,
// right otherwise; computed without a branch on the (unpredictable)
// comparison.
func step(n *pnode, xf []float32, base int) int32 {
	x := xf[base+int(n.feat)]
	var right int32
	if !(x < n.thr) {
		right = 1
	}
	i := n.left + right
	if x != x {
		i = n.miss
	}
	return i
}

// rowBlock is a block of rows converted to float32 (the precision splits
// compare in), row-major, with scratch node indices for addTo.
type rowBlock struct {
	xf      []float32
	p, rows int
	nan     bool    // whether any value is missing
	idx     []int32 // one node index per row
}

// fill converts x, rows rows of p columns, into b, reusing its buffers.
func (b *rowBlock) fill(x []float64, rows, p int) {
	b.p, b.rows, b.nan = p, rows, false
	if cap(b.xf) < len(x) {
		b.xf = make([]float32, len(x))
	}
	if cap(b.idx) < b.rows {
		b.idx = make([]int32, b.rows)
	}
	b.xf, b.idx = b.xf[:len(x)], b.idx[:b.rows]
	for i, v := range x {
		b.xf[i] = float32(v)
		b.nan = b.nan || v != v
	}
}

// addTo adds the tree's value for each row of block b to dst[r*k+j]. All
// rows step down the tree one level at a time: a level's loads for
// different rows are independent, so they overlap instead of each waiting
// for the one before. Leaves lead to themselves, so depth steps reach the
// leaf from anywhere. A block without missing values skips their test.
func (pt *packedTree) addTo(dst []float64, k, j int, b *rowBlock) {
	nodes, vals, xf, p := pt.nodes, pt.vals, b.xf, b.p
	if pt.cats != nil {
		for r := range b.rows {
			dst[r*k+j] += float64(vals[pt.walk(xf, r*p)])
		}
		return
	}
	idx := b.idx[:b.rows]
	clear(idx)
	for range pt.depth {
		if b.nan {
			levelNaN(idx, nodes, xf, p)
		} else {
			level(idx, nodes, xf, p)
		}
	}
	for r, i := range idx {
		dst[r*k+j] += float64(vals[i])
	}
}

// level moves every row of a block without missing values one level
// down: row r from node idx[r], its features at xf[r*p:]. It is a
// function of its own, not inlined, so that its loop keeps every
// variable in a register: inside addTo the row counter and offset were
// spilled to the stack, and each iteration waited on reloading them.
//
//go:noinline
func level(idx []int32, nodes []pnode, xf []float32, p int) {
	base := 0
	for r, i := range idx {
		n := &nodes[i]
		var right int32
		if !(xf[base+int(n.feat)] < n.thr) {
			right = 1
		}
		idx[r] = n.left + right
		base += p
	}
}

// levelNaN is level for a block with missing values. It routes them
// without a branch: "x is missing" depends on the row and node, so a
// branch on it (as in step) is mispredicted often. nlt = !(x < thr) and
// ge = x >= thr differ only for NaN, and then nlt is 1 (right); a node
// whose missing values go left (miss == left) flips that to 0. Leaves
// (thr NaN, miss = the leaf = left+1) still loop to themselves.
//
//go:noinline
func levelNaN(idx []int32, nodes []pnode, xf []float32, p int) {
	base := 0
	for r, i := range idx {
		n := &nodes[i]
		x := xf[base+int(n.feat)]
		var nlt, ge, missLeft int32
		if !(x < n.thr) {
			nlt = 1
		}
		if x >= n.thr {
			ge = 1
		}
		if n.miss == n.left {
			missLeft = 1
		}
		idx[r] = n.left + (nlt ^ (nlt^ge)&missLeft)
		base += p
	}
}

// walk returns the leaf a row reaches in a tree with categorical splits.
func (pt *packedTree) walk(xf []float32, base int) int32 {
	var i int32
	for range pt.depth {
		n := &pt.nodes[i]
		if n.feat < catFlag {
			i = step(n, xf, base)
			continue
		}
		x := xf[base+int(n.feat-catFlag)]
		switch {
		case x != x:
			i = n.miss
		case catLeft(pt.cats[i], x):
			i = n.left
		default:
			i = n.left + 1
		}
	}
	return i
}

// treeBuilder is a tree under construction. Besides the public arrays it
// keeps each split's table of codes going left, so training rows can be
// routed by their codes.
type treeBuilder struct {
	Tree
	goLeft []*[256]uint8
}

// reset returns an empty builder that reuses b's slices (a new one when b
// is nil): finish copies them into the tree, so the next tree can grow
// in them rather than append its way up from nothing (a 200-class fit
// grows 200,000 trees). cats is not reused: finish hands it over.
func (b *treeBuilder) reset() *treeBuilder {
	if b == nil {
		return &treeBuilder{}
	}
	t := &b.Tree
	t.left, t.right, t.feature, t.threshold = t.left[:0], t.right[:0], t.feature[:0], t.threshold[:0]
	t.defaultLeft, t.value, t.cover, t.gain = t.defaultLeft[:0], t.value[:0], t.cover[:0], t.gain[:0]
	t.cats = nil
	clear(b.goLeft) // drop the finished tree's tables
	b.goLeft = b.goLeft[:0]
	return b
}

// setCats makes node i a categorical split with left set set.
func (b *treeBuilder) setCats(i int, set *[4]uint64) {
	if b.cats == nil {
		b.cats = make([]*[4]uint64, len(b.left), cap(b.left))
	}
	b.cats[i] = set
}

// add appends a leaf with hessian sum cover and value v and returns its id.
func (b *treeBuilder) add(cover float64, v float32) int {
	b.left = append(b.left, -1)
	b.right = append(b.right, -1)
	b.feature = append(b.feature, 0)
	b.threshold = append(b.threshold, v)
	b.defaultLeft = append(b.defaultLeft, false)
	b.value = append(b.value, v)
	b.cover = append(b.cover, cover)
	b.gain = append(b.gain, 0)
	b.goLeft = append(b.goLeft, nil)
	if b.cats != nil {
		b.cats = append(b.cats, nil)
	}
	return len(b.left) - 1
}

// setLeaf sets leaf i's value.
func (b *treeBuilder) setLeaf(i int, v float32) {
	b.value[i] = v
	b.threshold[i] = v
}

// route returns the leaf training row r reaches, by its codes.
func (b *treeBuilder) route(bm *binMatrix, r int) int {
	i := 0
	for b.left[i] >= 0 {
		if b.goLeft[i][bm.codes[b.feature[i]][r]] == 1 {
			i = int(b.left[i])
		} else {
			i = int(b.right[i])
		}
	}
	return i
}

// finish returns the public tree, trimming the builder's slices.
func (b *treeBuilder) finish() *Tree {
	t := b.Tree
	return &Tree{
		left: clip(t.left), right: clip(t.right), feature: clip(t.feature), threshold: clip(t.threshold),
		defaultLeft: clip(t.defaultLeft), value: clip(t.value), cover: clip(t.cover), gain: clip(t.gain),
		cats: t.cats,
	}
}

func clip[T any](s []T) []T { return append([]T(nil), s...) }
