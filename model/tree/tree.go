package tree

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/tabforge/tabforge/internal/formatversion"
)

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
	// Value holds NumOutputs values per node (node i at
	// Value[i*NumOutputs:(i+1)*NumOutputs]): the weighted mean target for
	// regression, the probability of class 1 for binary classification,
	// the class probabilities for multiclass.
	Value []float64
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

// NodeValue returns node i's values, aliasing t.Value.
func (t *Tree) NodeValue(i int) []float64 {
	return t.Value[i*t.NumOutputs : (i+1)*t.NumOutputs]
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
	t.Value = make([]float64, 0, n*t.NumOutputs)
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
		t.Value = slices.Clone(t.Value)
		t.Cover = slices.Clone(t.Cover)
		t.Samples = slices.Clone(t.Samples)
		t.Impurity = slices.Clone(t.Impurity)
		t.Depth = slices.Clone(t.Depth)
	}
}

// addNode appends a node and returns its id.
func (t *Tree) addNode(value []float64, cover float64, samples int, impurity float64, depth int) int32 {
	t.Feature = append(t.Feature, -1)
	t.Threshold = append(t.Threshold, 0)
	t.Left = append(t.Left, -1)
	t.Right = append(t.Right, -1)
	t.Value = append(t.Value, value...)
	t.Cover = append(t.Cover, cover)
	t.Samples = append(t.Samples, int32(samples))
	t.Impurity = append(t.Impurity, impurity)
	t.Depth = append(t.Depth, int32(depth))
	return int32(len(t.Feature) - 1)
}

// Tree encodings: version 1 wrote every array as is; version 2 leaves out
// what the structure implies (left children, which follow their parent,
// and depths) and stores each array byte-plane by byte-plane (all first
// bytes, then all second bytes, ...), which the envelope's compression
// packs several times tighter: neighbouring node ids and thresholds share
// their high bytes.
const (
	treeMagic  = "TFtree1\x00"
	treeMagic2 = "TFtree2\x00"
)

// AppendBinary appends t's encoding (version 2) to b: a magic string,
// NumFeatures, NumOutputs and node count, then Feature, Right and Samples
// as int32 and Threshold, Value, Cover and Impurity as float64, each
// array byte-plane-shuffled. The encoding is deterministic: equal trees
// give equal bytes.
func (t *Tree) AppendBinary(b []byte) ([]byte, error) {
	n := t.NumNodes()
	b = append(b, treeMagic2...)
	b = binary.LittleEndian.AppendUint32(b, uint32(t.NumFeatures))
	b = binary.LittleEndian.AppendUint32(b, uint32(t.NumOutputs))
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	// A right child is stored as its distance from its parent (0 for a
	// leaf): small numbers whose high bytes are all zero.
	b = appendShuffled(b, n, 4, func(i int) uint64 { return uint64(uint32(t.Feature[i])) })
	b = appendShuffled(b, n, 4, func(i int) uint64 { return uint64(uint32(max(0, t.Right[i]-int32(i)))) })
	b = appendShuffled(b, n, 4, func(i int) uint64 { return uint64(uint32(t.Samples[i])) })
	for _, a := range [][]float64{t.Threshold, t.Value, t.Cover, t.Impurity} {
		b = appendShuffled(b, len(a), 8, func(i int) uint64 { return math.Float64bits(a[i]) })
	}
	return b, nil
}

// appendShuffled appends n little-endian values of width bytes as width
// planes of n bytes each.
func appendShuffled(b []byte, n, width int, value func(int) uint64) []byte {
	start := len(b)
	b = append(b, make([]byte, n*width)...)
	out := b[start:]
	for i := range n {
		v := value(i)
		for j := range width {
			out[j*n+i] = byte(v >> (8 * j))
		}
	}
	return b
}

// readShuffled reads the value at index i of n shuffled values of width
// bytes.
func readShuffled(data []byte, n, width, i int) uint64 {
	var v uint64
	for j := range width {
		v |= uint64(data[j*n+i]) << (8 * j)
	}
	return v
}

// restoreStructure fills the left children and depths a version 2
// encoding leaves out: nodes are in preorder, so an internal node's left
// child is the next node, and children come after their parent.
func (t *Tree) restoreStructure() error {
	n := int32(len(t.Feature))
	for i := range n {
		if t.Feature[i] < 0 {
			t.Left[i], t.Right[i] = -1, -1
			continue
		}
		l, r := i+1, i+t.Right[i]
		if l >= n || r <= l || r >= n {
			return fmt.Errorf("%w: node %d has children %d, %d", ErrCorrupt, i, l, r)
		}
		t.Left[i], t.Right[i] = l, r
		t.Depth[l], t.Depth[r] = t.Depth[i]+1, t.Depth[i]+1
	}
	return nil
}

// MarshalBinary encodes t; see AppendBinary.
func (t *Tree) MarshalBinary() ([]byte, error) { return t.AppendBinary(nil) }

// ErrCorrupt reports encoded tree or model bytes that cannot be decoded.
var ErrCorrupt = errors.New("tree: corrupt model data")

// UnmarshalBinary decodes a Tree written by MarshalBinary and checks its
// structure (child ids in range and after their parent, features in
// range), so a corrupt input is an error rather than a later panic.
func (t *Tree) UnmarshalBinary(data []byte) error {
	rest, err := t.decode(data)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(rest))
	}
	return nil
}

// decode reads one tree (version 1 or 2) from the front of data and
// returns the rest.
func (t *Tree) decode(data []byte) ([]byte, error) {
	const head = len(treeMagic) + 12
	if len(data) < head || (string(data[:len(treeMagic)]) != treeMagic && string(data[:len(treeMagic)]) != treeMagic2) {
		if err := formatversion.CheckTag("tree encoding", string(data[:min(len(treeMagic), len(data))]), "TFtree", 2); err != nil {
			return nil, fmt.Errorf("tree: %w", err)
		}
		return nil, fmt.Errorf("%w: not a tree", ErrCorrupt)
	}
	v2 := string(data[:len(treeMagic2)]) == treeMagic2
	nf := binary.LittleEndian.Uint32(data[len(treeMagic):])
	no := binary.LittleEndian.Uint32(data[len(treeMagic)+4:])
	n := uint64(binary.LittleEndian.Uint32(data[len(treeMagic)+8:]))
	data = data[head:]
	if n == 0 || no == 0 || nf == 0 || no > 1<<20 || nf > 1<<30 {
		return nil, fmt.Errorf("%w: bad header (features %d, outputs %d, nodes %d)", ErrCorrupt, nf, no, n)
	}
	intArrays := uint64(5)
	if v2 {
		intArrays = 3
	}
	size := n*intArrays*4 + n*(3+uint64(no))*8
	if uint64(len(data)) < size {
		return nil, fmt.Errorf("%w: truncated tree (%d nodes need %d bytes, have %d)", ErrCorrupt, n, size, len(data))
	}
	ints := func() []int32 {
		a := make([]int32, n)
		for i := range a {
			if v2 {
				a[i] = int32(readShuffled(data, int(n), 4, i))
			} else {
				a[i] = int32(binary.LittleEndian.Uint32(data[4*i:]))
			}
		}
		data = data[4*n:]
		return a
	}
	floats := func(k uint64) []float64 {
		a := make([]float64, k)
		for i := range a {
			if v2 {
				a[i] = math.Float64frombits(readShuffled(data, int(k), 8, i))
			} else {
				a[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
			}
		}
		data = data[8*k:]
		return a
	}
	*t = Tree{NumFeatures: int(nf), NumOutputs: int(no)}
	if v2 {
		t.Feature, t.Right, t.Samples = ints(), ints(), ints()
		t.Left, t.Depth = make([]int32, n), make([]int32, n)
	} else {
		t.Feature, t.Left, t.Right, t.Samples, t.Depth = ints(), ints(), ints(), ints(), ints()
	}
	t.Threshold, t.Value, t.Cover, t.Impurity = floats(n), floats(n*uint64(no)), floats(n), floats(n)
	if v2 {
		if err := t.restoreStructure(); err != nil {
			return nil, err
		}
	}
	for i := range int32(n) {
		f, l, r := t.Feature[i], t.Left[i], t.Right[i]
		switch {
		case f < 0 && (f != -1 || l != -1 || r != -1):
			return nil, fmt.Errorf("%w: bad leaf %d", ErrCorrupt, i)
		case f >= int32(nf):
			return nil, fmt.Errorf("%w: node %d splits feature %d of %d", ErrCorrupt, i, f, nf)
		case f >= 0 && (l != i+1 || r <= l || int64(r) >= int64(n)):
			return nil, fmt.Errorf("%w: node %d has children %d, %d", ErrCorrupt, i, l, r)
		}
	}
	return data, nil
}
