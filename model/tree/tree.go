package tree

import "slices"

// Tree is a fitted binary decision tree stored as flat arrays indexed by
// node id. Node 0 is the root; nodes are numbered in depth-first preorder,
// so a node's children always have larger ids than the node. At an
// internal node a row goes to Left[i] when x[Feature[i]] <= Threshold[i]
// and to Right[i] otherwise. A leaf has Feature, Left and Right -1.
//
// The arrays are exported for explainers (TreeSHAP needs Cover and Value)
// and must be treated as read-only: a Tree is shared by the models that
// hold it and read concurrently by Predict.
type Tree struct {
	// NumFeatures is the number of columns the tree was trained on.
	NumFeatures int
	// NumOutputs is the number of values per node in Value.
	NumOutputs int

	Feature   []int32   // split feature, -1 at a leaf
	Threshold []float64 // split threshold (0 at a leaf)
	Left      []int32   // left child, -1 at a leaf
	Right     []int32   // right child, -1 at a leaf
	// Value holds the node values. With one output (regression, binary)
	// it has one value per node: the weighted mean target, or the
	// probability of class 1. With several (multiclass) it holds the
	// leaves' nonzero class probabilities only, node by node: node i's are
	// Value[ValueStart[i]:ValueStart[i+1]], of the classes in ValueClass
	// at the same positions, in ascending class order; an internal node
	// has none. A dense value per node and class took a forest on 5,000
	// rows of 200 classes to gigabytes, where a fully grown tree's leaves
	// are mostly pure and hold one class each.
	Value []float64
	// ValueStart (NumNodes()+1 offsets into Value) and ValueClass (the
	// class of each entry of Value) are set for multiclass trees only.
	ValueStart []int32
	ValueClass []int32
	// Cover is the total sample weight of the training rows reaching the
	// node (with bootstrap, counts times weights).
	Cover []float64
	// Samples is the number of distinct training rows reaching the node.
	Samples []int32
	// Impurity is the node's weighted impurity under the training
	// criterion (variance, gini or entropy in nats).
	Impurity []float64
	// Depth is the node's depth; the root has depth 0.
	Depth []int32
}

// NumNodes returns the number of nodes.
func (t *Tree) NumNodes() int { return len(t.Feature) }

// IsLeaf reports whether node i is a leaf.
func (t *Tree) IsLeaf(i int) bool { return t.Feature[i] < 0 }

// sparse reports whether t stores its values as a leaf table (multiclass).
func (t *Tree) sparse() bool { return t.NumOutputs > 1 }

// AddValue adds node i's values to dst (length NumOutputs): the node's
// value, or its class probabilities, which at an internal node of a
// multiclass tree are not stored and add nothing. Adding the zero
// probabilities a leaf does not store would change no sum, so a sum of
// leaf values is the one dense per-class values gave, bit for bit.
func (t *Tree) AddValue(dst []float64, i int) {
	if !t.sparse() {
		dst[0] += t.Value[i]
		return
	}
	lo, hi := t.ValueStart[i], t.ValueStart[i+1]
	for e, c := range t.ValueClass[lo:hi] {
		dst[c] += t.Value[int(lo)+e]
	}
}

// LeafValue writes node i's values into dst (length NumOutputs): zero
// for classes the node does not store.
func (t *Tree) LeafValue(dst []float64, i int) {
	clear(dst)
	t.AddValue(dst, i)
}

// MaxDepth returns the depth of the deepest node.
func (t *Tree) MaxDepth() int {
	d := int32(0)
	for _, v := range t.Depth {
		d = max(d, v)
	}
	return int(d)
}

// Leaf returns the id of the leaf row x (of length NumFeatures) falls in.
// NaN features go right. It does not check len(x).
func (t *Tree) Leaf(x []float64) int {
	i := int32(0)
	for {
		f := t.Feature[i]
		if f < 0 {
			return int(i)
		}
		if x[f] <= t.Threshold[i] {
			i++ // preorder: the left child follows its parent
		} else {
			i = t.Right[i]
		}
	}
}

// Importances adds each feature's total weighted impurity decrease,
// Σ over its splits of Cover·Impurity − Cover_L·Impurity_L −
// Cover_R·Impurity_R, to dst (length NumFeatures), unnormalised.
func (t *Tree) Importances(dst []float64) {
	for i, f := range t.Feature {
		if f < 0 {
			continue
		}
		l, r := t.Left[i], t.Right[i]
		dst[f] += t.Cover[i]*t.Impurity[i] - t.Cover[l]*t.Impurity[l] - t.Cover[r]*t.Impurity[r]
	}
}

// reserve sets the arrays' capacity for n nodes.
func (t *Tree) reserve(n int) {
	t.Feature = make([]int32, 0, n)
	t.Threshold = make([]float64, 0, n)
	t.Left = make([]int32, 0, n)
	t.Right = make([]int32, 0, n)
	if t.sparse() {
		// Most leaves of a deep tree are pure: one class each.
		t.Value = make([]float64, 0, n)
		t.ValueClass = make([]int32, 0, n)
		t.ValueStart = make([]int32, 0, n+1)
	} else {
		t.Value = make([]float64, 0, n)
	}
	t.Cover = make([]float64, 0, n)
	t.Samples = make([]int32, 0, n)
	t.Impurity = make([]float64, 0, n)
	t.Depth = make([]int32, 0, n)
}

// shrink copies the arrays to their length if they waste over a quarter.
func (t *Tree) shrink() {
	if n := len(t.Feature); cap(t.Feature) > n+n/4 {
		t.Feature = slices.Clone(t.Feature)
		t.Threshold = slices.Clone(t.Threshold)
		t.Left = slices.Clone(t.Left)
		t.Right = slices.Clone(t.Right)
		t.Cover = slices.Clone(t.Cover)
		t.Samples = slices.Clone(t.Samples)
		t.Impurity = slices.Clone(t.Impurity)
		t.Depth = slices.Clone(t.Depth)
	}
	if n := len(t.Value); cap(t.Value) > n+n/4 {
		t.Value = slices.Clone(t.Value)
		if t.sparse() {
			t.ValueClass = slices.Clone(t.ValueClass)
		}
	}
	if n := len(t.ValueStart); cap(t.ValueStart) > n+n/4 {
		t.ValueStart = slices.Clone(t.ValueStart)
	}
}

// addNode appends a node as a leaf of the given values and returns its
// id. A multiclass node that is then split must drop its values
// (dropValues) before the next node is added.
func (t *Tree) addNode(value []float64, cover float64, samples int, impurity float64, depth int) int32 {
	t.Feature = append(t.Feature, -1)
	t.Threshold = append(t.Threshold, 0)
	t.Left = append(t.Left, -1)
	t.Right = append(t.Right, -1)
	if t.sparse() {
		if len(t.ValueStart) == 0 {
			t.ValueStart = append(t.ValueStart, 0)
		}
		for c, v := range value {
			if v != 0 {
				t.Value = append(t.Value, v)
				t.ValueClass = append(t.ValueClass, int32(c))
			}
		}
		t.ValueStart = append(t.ValueStart, int32(len(t.Value)))
	} else {
		t.Value = append(t.Value, value...)
	}
	t.Cover = append(t.Cover, cover)
	t.Samples = append(t.Samples, int32(samples))
	t.Impurity = append(t.Impurity, impurity)
	t.Depth = append(t.Depth, int32(depth))
	return int32(len(t.Feature) - 1)
}

// dropValues removes the values of node id, the last node added, which
// was split: a multiclass tree keeps values at its leaves only.
func (t *Tree) dropValues(id int32) {
	if t.sparse() {
		start := t.ValueStart[id]
		t.Value, t.ValueClass = t.Value[:start], t.ValueClass[:start]
		t.ValueStart[id+1] = start
	}
}
