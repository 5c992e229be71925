package forest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/tabforge/tabforge/internal/formatversion"
	"github.com/tabforge/tabforge/model"
)

// TestDecodeTagVersion fakes forest encodings of later format versions by
// replacing the version 1 tag of a real model's encoding, and checks that
// each is refused as written by a newer tabforge while version 1 still
// decodes, also when the byte after its unterminated tag is an ASCII
// digit. "TFforst10\x00" was read as version 1 followed by a params
// length of "0\x00..": corrupt model data.
func TestDecodeTagVersion(t *testing.T) {
	train, _ := friedmanSplit(100)
	// {"n_estimators":2,"max_depth":3,"seed":1000000000000} is 53 bytes
	// long: its length's low byte is '5', so the version 1 tag reads
	// "TFforst15" up to its length's second byte.
	m, err := Train(context.Background(), Params{NEstimators: 2, MaxDepth: 3, Seed: 1e12}, train, model.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if d := b[len(magic)]; d < '0' || d > '9' {
		t.Fatalf("the params length after the tag starts with byte %#x, not an ASCII digit", d)
	}
	if _, err := Decode(b); err != nil {
		t.Fatalf("Decode(version 1 with a digit after its tag) = %v", err)
	}
	body := b[len(magic):]
	for _, tag := range []string{"TFforst2\x00", "TFforst10\x00", "TFforst15\x00", "TFforst123\x00"} {
		data := append([]byte(tag), body...)
		_, err := Decode(data)
		if !errors.Is(err, formatversion.ErrNewer) || errors.Is(err, ErrCorrupt) {
			t.Errorf("Decode(%q...) = %v; want an error wrapping formatversion.ErrNewer, not ErrCorrupt", tag, err)
		}
	}
	for _, tag := range []string{"TFforsX\x00", "TFforstX"} {
		if _, err := Decode(append([]byte(tag), body...)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Decode(%q...) = %v; want ErrCorrupt", tag, err)
		}
	}
}

// TestDecodeDenseMulticlass reads a multiclass forest saved before
// multiclass trees kept their class probabilities as a leaf table (tree
// encoding version 2, a dense value per node and class; see
// testdata/README.md) and checks that it predicts what the build that
// wrote it predicted, bit for bit, before and after a save in the current
// format, and that the current format stores no value at internal nodes.
func TestDecodeDenseMulticlass(t *testing.T) {
	old, err := os.ReadFile("testdata/forest_multiclass_v2.bin")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/forest_multiclass_v2.json")
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		Rows, Cols int
		X, Pred    []float64
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	x := &model.Matrix{Rows: want.Rows, Cols: want.Cols, Data: want.X}
	m, err := Decode(old)
	if err != nil {
		t.Fatalf("Decode(version 2 trees) = %v", err)
	}
	resaved, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(resaved, []byte("TFtree3\x00")) || bytes.Contains(resaved, []byte("TFtree2\x00")) {
		t.Fatalf("a multiclass forest was saved without version 3 trees")
	}
	m2, err := Decode(resaved)
	if err != nil {
		t.Fatalf("Decode(resaved) = %v", err)
	}
	for name, mm := range map[string]*Model{"old file": m, "resaved": m2} {
		got := predict(t, mm, x)
		if len(got) != len(want.Pred) {
			t.Fatalf("%s: %d predictions; want %d", name, len(got), len(want.Pred))
		}
		for i := range got {
			if got[i] != want.Pred[i] {
				t.Fatalf("%s: prediction %d = %v; the writing build predicted %v", name, i, got[i], want.Pred[i])
			}
		}
		for ti, tr := range mm.trees {
			for i := range tr.NumNodes() {
				if !tr.IsLeaf(i) && tr.ValueStart[i+1] != tr.ValueStart[i] {
					t.Fatalf("%s: tree %d internal node %d stores class values", name, ti, i)
				}
			}
		}
	}
}
