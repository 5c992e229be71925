package tree

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/tabforge/tabforge/internal/formatversion"
)

// Tree encodings: version 1 wrote every array as is; version 2 leaves out
// what the structure implies (left children, which follow their parent,
// and depths) and stores each array byte-plane by byte-plane (all first
// bytes, then all second bytes, ...), which the envelope's compression
// packs several times tighter: neighbouring node ids and thresholds share
// their high bytes. Version 3, written for multiclass trees only, stores
// their values as the leaf table Tree holds (see Tree.Value) instead of a
// value per node and class; versions 1 and 2 of a multiclass tree are
// turned into that table when read, their internal nodes' values dropped.
// Single-output trees are still written as version 2, which every
// tabforge since version 2 reads.
const (
	treeMagic  = "TFtree1\x00"
	treeMagic2 = "TFtree2\x00"
	treeMagic3 = "TFtree3\x00"
	// treeVersion is the newest tree encoding this build reads.
	treeVersion = 3
)

// AppendBinary appends t's encoding to b: a magic string, NumFeatures,
// NumOutputs and node count, then Feature, Right and Samples as int32,
// (multiclass only: each node's count of stored values and their classes
// as int32) and Threshold, Value, Cover and Impurity as float64, each
// array byte-plane-shuffled. The encoding is deterministic: equal trees
// give equal bytes.
func (t *Tree) AppendBinary(b []byte) ([]byte, error) {
	n := t.NumNodes()
	if t.sparse() {
		b = append(b, treeMagic3...)
	} else {
		b = append(b, treeMagic2...)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(t.NumFeatures))
	b = binary.LittleEndian.AppendUint32(b, uint32(t.NumOutputs))
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	// A right child is stored as its distance from its parent (0 for a
	// leaf): small numbers whose high bytes are all zero.
	b = appendShuffled(b, n, 4, func(i int) uint64 { return uint64(uint32(t.Feature[i])) })
	b = appendShuffled(b, n, 4, func(i int) uint64 { return uint64(uint32(max(0, t.Right[i]-int32(i)))) })
	b = appendShuffled(b, n, 4, func(i int) uint64 { return uint64(uint32(t.Samples[i])) })
	if t.sparse() {
		b = appendShuffled(b, n, 4, func(i int) uint64 { return uint64(uint32(t.ValueStart[i+1] - t.ValueStart[i])) })
		b = appendShuffled(b, len(t.ValueClass), 4, func(i int) uint64 { return uint64(uint32(t.ValueClass[i])) })
	}
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

// decoder reads a tree encoding's arrays front to back.
type decoder struct {
	data     []byte
	shuffled bool // version 2 and later
}

// has reports whether size more bytes are left.
func (d *decoder) has(size uint64) bool { return uint64(len(d.data)) >= size }

func (d *decoder) ints(n uint64) []int32 {
	a := make([]int32, n)
	for i := range a {
		if d.shuffled {
			a[i] = int32(readShuffled(d.data, int(n), 4, i))
		} else {
			a[i] = int32(binary.LittleEndian.Uint32(d.data[4*i:]))
		}
	}
	d.data = d.data[4*n:]
	return a
}

func (d *decoder) floats(n uint64) []float64 {
	a := make([]float64, n)
	for i := range a {
		if d.shuffled {
			a[i] = math.Float64frombits(readShuffled(d.data, int(n), 8, i))
		} else {
			a[i] = math.Float64frombits(binary.LittleEndian.Uint64(d.data[8*i:]))
		}
	}
	d.data = d.data[8*n:]
	return a
}

// decode reads one tree (version 1, 2 or 3) from the front of data and
// returns the rest.
func (t *Tree) decode(data []byte) ([]byte, error) {
	const head = len(treeMagic) + 12
	version := 0
	if len(data) >= head {
		switch string(data[:len(treeMagic)]) {
		case treeMagic:
			version = 1
		case treeMagic2:
			version = 2
		case treeMagic3:
			version = 3
		}
	}
	if version == 0 {
		if err := formatversion.CheckTag("tree encoding", string(data[:min(len(treeMagic), len(data))]), "TFtree", treeVersion); err != nil {
			return nil, fmt.Errorf("tree: %w", err)
		}
		return nil, fmt.Errorf("%w: not a tree", ErrCorrupt)
	}
	nf := binary.LittleEndian.Uint32(data[len(treeMagic):])
	no := binary.LittleEndian.Uint32(data[len(treeMagic)+4:])
	n := uint64(binary.LittleEndian.Uint32(data[len(treeMagic)+8:]))
	d := &decoder{data: data[head:], shuffled: version >= 2}
	if n == 0 || no == 0 || nf == 0 || no > 1<<20 || nf > 1<<30 || (version == 3 && no < 2) {
		return nil, fmt.Errorf("%w: bad header (version %d, features %d, outputs %d, nodes %d)", ErrCorrupt, version, nf, no, n)
	}
	*t = Tree{NumFeatures: int(nf), NumOutputs: int(no)}
	switch version {
	case 1:
		if !d.has(n*5*4 + n*(3+uint64(no))*8) {
			return nil, truncated(n, len(d.data))
		}
		t.Feature, t.Left, t.Right, t.Samples, t.Depth = d.ints(n), d.ints(n), d.ints(n), d.ints(n), d.ints(n)
		t.Threshold, t.Value, t.Cover, t.Impurity = d.floats(n), d.floats(n*uint64(no)), d.floats(n), d.floats(n)
	case 2:
		if !d.has(n*3*4 + n*(3+uint64(no))*8) {
			return nil, truncated(n, len(d.data))
		}
		t.Feature, t.Right, t.Samples = d.ints(n), d.ints(n), d.ints(n)
		t.Threshold, t.Value, t.Cover, t.Impurity = d.floats(n), d.floats(n*uint64(no)), d.floats(n), d.floats(n)
	case 3:
		if err := t.decodeTable(d, n); err != nil {
			return nil, err
		}
	}
	if version >= 2 {
		t.Left, t.Depth = make([]int32, n), make([]int32, n)
		if err := t.restoreStructure(); err != nil {
			return nil, err
		}
	}
	if err := t.checkNodes(); err != nil {
		return nil, err
	}
	if version < 3 && no > 1 {
		t.denseToTable()
	}
	return d.data, nil
}

func truncated(n uint64, have int) error {
	return fmt.Errorf("%w: truncated tree (%d nodes, %d bytes)", ErrCorrupt, n, have)
}

// decodeTable reads the arrays of a version 3 (multiclass) encoding and
// checks its leaf table: values at leaves only, classes in range and
// ascending within a node.
func (t *Tree) decodeTable(d *decoder, n uint64) error {
	if !d.has(n * 4 * 4) {
		return truncated(n, len(d.data))
	}
	t.Feature, t.Right, t.Samples = d.ints(n), d.ints(n), d.ints(n)
	counts := d.ints(n)
	t.ValueStart = make([]int32, n+1)
	var nnz uint64
	for i, c := range counts {
		if c < 0 || c > int32(t.NumOutputs) || (c > 0 && t.Feature[i] >= 0) {
			return fmt.Errorf("%w: node %d stores %d values", ErrCorrupt, i, c)
		}
		nnz += uint64(c)
		t.ValueStart[i+1] = int32(nnz)
	}
	if !d.has(nnz*4 + (3*n+nnz)*8) {
		return truncated(n, len(d.data))
	}
	t.ValueClass = d.ints(nnz)
	for i := range n {
		prev := int32(-1)
		for _, c := range t.ValueClass[t.ValueStart[i]:t.ValueStart[i+1]] {
			if c <= prev || c >= int32(t.NumOutputs) {
				return fmt.Errorf("%w: node %d stores class %d", ErrCorrupt, i, c)
			}
			prev = c
		}
	}
	t.Threshold, t.Value, t.Cover, t.Impurity = d.floats(n), d.floats(nnz), d.floats(n), d.floats(n)
	return nil
}

// checkNodes checks every node's split feature and children.
func (t *Tree) checkNodes() error {
	n := int32(len(t.Feature))
	for i := range n {
		f, l, r := t.Feature[i], t.Left[i], t.Right[i]
		switch {
		case f < 0 && (f != -1 || l != -1 || r != -1):
			return fmt.Errorf("%w: bad leaf %d", ErrCorrupt, i)
		case f >= int32(t.NumFeatures):
			return fmt.Errorf("%w: node %d splits feature %d of %d", ErrCorrupt, i, f, t.NumFeatures)
		case f >= 0 && (l != i+1 || r <= l || r >= n):
			return fmt.Errorf("%w: node %d has children %d, %d", ErrCorrupt, i, l, r)
		}
	}
	return nil
}

// denseToTable turns the dense per-node class values of a version 1 or 2
// multiclass encoding into the leaf table: each leaf's nonzero values.
func (t *Tree) denseToTable() {
	k, dense := t.NumOutputs, t.Value
	t.Value, t.ValueClass, t.ValueStart = nil, nil, make([]int32, 1, t.NumNodes()+1)
	for i := range t.NumNodes() {
		if t.IsLeaf(i) {
			for c, v := range dense[i*k : (i+1)*k] {
				if v != 0 {
					t.Value = append(t.Value, v)
					t.ValueClass = append(t.ValueClass, int32(c))
				}
			}
		}
		t.ValueStart = append(t.ValueStart, int32(len(t.Value)))
	}
}
