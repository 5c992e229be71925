package tree

import "math"

// Flat is a Tree laid out for batch prediction: 16-byte nodes numbered
// breadth-first with siblings adjacent, so a node needs no right-child
// field, and every leaf pointing to itself, so that depth steps take any
// row from the root to its leaf. AddTo walks a block of rows one level at
// a time: a level's loads for different rows are independent of one
// another, and the child is a computed index instead of a branch the CPU
// mispredicts half the time, which the per-row walk of Leaf waits on at
// every node. Every row pays the deepest path, though: see LevelsPay.
// A Flat is immutable and safe for concurrent use.
type Flat struct {
	nodes []flatNode
	// vals holds one value per node (zero at internal nodes) for a
	// single-output tree; for a multiclass tree, the leaves' stored class
	// values, node j's at vals[start[j]:start[j+1]] of classes class[...]
	// (see Tree.Value).
	vals  []float64
	start []int32
	class []int32
	k     int
	depth int
}

// flatDepthRatio is the most the trees' depths may exceed the mean depth
// of their training rows' leaves, as a factor, for the level walk to pay.
// On the ames production forest (depth 13, leaves at depth 10.7 on
// average: 1.2) the level walk takes about half the time of the row walk;
// on fully grown trees (depth about 25, leaves at 14) it takes twice as
// long, their nodes no longer fitting in cache either.
const flatDepthRatio = 1.3

// LevelsPay reports whether trees are faster walked level by level
// (Flat) than row by row (Leaf): whether their depths are close to the
// depths at which their training rows end, so that few steps are wasted
// on rows already at a leaf.
func LevelsPay(trees []*Tree) bool {
	var depth, mean float64
	for _, t := range trees {
		var sum, rows float64
		for i := range t.NumNodes() {
			if t.IsLeaf(i) {
				w := float64(max(1, t.Samples[i]))
				sum += w * float64(t.Depth[i])
				rows += w
			}
		}
		depth += float64(t.MaxDepth())
		mean += sum / rows
	}
	return depth <= flatDepthRatio*mean
}

// flatNode is an internal node (a row goes to left when x[feat] <= thr,
// else to left+1) or a leaf, whose thr is NaN so that every row goes to
// left+1, the leaf itself.
type flatNode struct {
	thr  float64
	feat int32
	left int32
}

// NewFlat lays t out for AddTo.
func NewFlat(t *Tree) *Flat {
	f := &Flat{k: t.NumOutputs, depth: t.MaxDepth()}
	n := t.NumNodes()
	f.nodes = make([]flatNode, 1, n)
	leafOf := make([]int32, 1, n) // per flat node, its tree node if a leaf, else -1
	type item struct{ src, dst int32 }
	queue := make([]item, 1, n)
	for q := 0; q < len(queue); q++ {
		it := queue[q]
		s := int(it.src)
		if t.IsLeaf(s) {
			f.nodes[it.dst] = flatNode{thr: math.NaN(), left: it.dst - 1}
			leafOf[it.dst] = it.src
			continue
		}
		l := int32(len(f.nodes))
		f.nodes = append(f.nodes, flatNode{}, flatNode{})
		leafOf = append(leafOf, -1, -1)
		f.nodes[it.dst] = flatNode{thr: t.Threshold[s], feat: t.Feature[s], left: l}
		leafOf[it.dst] = -1
		queue = append(queue, item{t.Left[s], l}, item{t.Right[s], l + 1})
	}
	if !t.sparse() {
		f.vals = make([]float64, n)
		for j, s := range leafOf {
			if s >= 0 {
				f.vals[j] = t.Value[s]
			}
		}
		return f
	}
	f.start = make([]int32, 1, n+1)
	f.vals, f.class = make([]float64, 0, len(t.Value)), make([]int32, 0, len(t.Value))
	for _, s := range leafOf {
		if s >= 0 {
			lo, hi := t.ValueStart[s], t.ValueStart[s+1]
			f.vals = append(f.vals, t.Value[lo:hi]...)
			f.class = append(f.class, t.ValueClass[lo:hi]...)
		}
		f.start = append(f.start, int32(len(f.vals)))
	}
	return f
}

// AddTo adds the tree's values for the rows rows of x (row-major, p
// columns each, no NaN) to dst, k values per row (dst[r*k+j] += value j of
// row r's leaf), using idx (at least rows long) as scratch. It equals
// adding AddValue(Leaf(row)) row by row; only the order of the loads
// differs.
func (f *Flat) AddTo(dst, x []float64, rows, p int, idx []int32) {
	idx = idx[:rows]
	clear(idx)
	nodes := f.nodes
	for range f.depth {
		flatLevel(idx, nodes, x, p)
	}
	if f.k == 1 {
		for r, i := range idx {
			dst[r] += f.vals[i]
		}
		return
	}
	for r, i := range idx {
		lo, hi := f.start[i], f.start[i+1]
		out := dst[r*f.k : (r+1)*f.k]
		for e, c := range f.class[lo:hi] {
			out[c] += f.vals[int(lo)+e]
		}
	}
}

// flatLevel moves every row one level down: row r from node idx[r], its
// features at x[r*p:]. It is a function of its own, not inlined, so that
// its loop keeps every variable in a register; inlined, the row offset
// was spilled to the stack and each iteration waited on reloading it.
//
//go:noinline
func flatLevel(idx []int32, nodes []flatNode, x []float64, p int) {
	base := 0
	for r, i := range idx {
		n := &nodes[i]
		var right int32
		if !(x[base+int(n.feat)] <= n.thr) {
			right = 1
		}
		idx[r] = n.left + right
		base += p
	}
}
