package tree

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/tabforge/tabforge/model"
)

// TestLeafTableEncoding checks the version 3 (multiclass leaf table)
// encoding: a round trip gives equal bytes and predictions, every
// truncation and the corruptions a leaf table allows (values at an
// internal node, a class out of range or out of order) are ErrCorrupt
// rather than a panic, and a single-output tree is still written as
// version 2, which older builds read.
func TestLeafTableEncoding(t *testing.T) {
	d := synthetic(300, 3, model.Multiclass, 11)
	tr := fit(t, Params{MaxDepth: 5}, d).Tree()
	b, err := tr.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte(treeMagic3)) {
		t.Fatalf("multiclass tree written as %q; want version 3", b[:len(treeMagic3)])
	}
	var back Tree
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatalf("UnmarshalBinary = %v", err)
	}
	again, _ := back.MarshalBinary()
	if !bytes.Equal(again, b) {
		t.Fatalf("re-encoding a decoded tree changed its bytes")
	}
	got, want := make([]float64, 3), make([]float64, 3)
	for r := range d.X.Rows {
		back.LeafValue(got, back.Leaf(d.X.Row(r)))
		tr.LeafValue(want, tr.Leaf(d.X.Row(r)))
		for j := range got {
			if got[j] != want[j] {
				t.Fatalf("row %d class %d: decoded tree gives %v, fitted %v", r, j, got[j], want[j])
			}
		}
	}
	for n := range len(b) {
		if err := new(Tree).UnmarshalBinary(b[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("UnmarshalBinary(first %d of %d bytes) = %v; want ErrCorrupt", n, len(b), err)
		}
	}
	// The per-node value counts follow the header and three int32 arrays;
	// the classes follow the counts. Both are byte-plane shuffled, so
	// byte i of a plane is node (or entry) i's low byte.
	n := tr.NumNodes()
	counts := len(treeMagic3) + 12 + 3*4*n
	classes := counts + 4*n
	leaf := 1
	for tr.IsLeaf(0) || !tr.IsLeaf(leaf) {
		leaf++
	}
	corrupt := map[string]func(c []byte){
		"values at the root":     func(c []byte) { c[counts] = 1 },
		"class out of range":     func(c []byte) { c[classes+int(tr.ValueStart[leaf])] = 3 },
		"count over the classes": func(c []byte) { c[counts+leaf] = 4 },
	}
	if tr.ValueStart[leaf+1]-tr.ValueStart[leaf] >= 2 {
		corrupt["classes out of order"] = func(c []byte) { c[classes+int(tr.ValueStart[leaf])] = byte(tr.ValueClass[tr.ValueStart[leaf]+1]) }
	}
	for name, f := range corrupt {
		c := bytes.Clone(b)
		f(c)
		if err := new(Tree).UnmarshalBinary(c); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: UnmarshalBinary = %v; want ErrCorrupt", name, err)
		}
	}
	bin := fit(t, Params{MaxDepth: 3}, synthetic(100, 2, model.Binary, 1)).Tree()
	bb, _ := bin.MarshalBinary()
	if !bytes.HasPrefix(bb, []byte(treeMagic2)) || binary.LittleEndian.Uint32(bb[len(treeMagic2)+4:]) != 1 {
		t.Fatalf("binary tree written as %q; want version 2", bb[:len(treeMagic2)])
	}
}
