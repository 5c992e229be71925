package tree

import (
	"context"
	"errors"
	"testing"

	"github.com/tabforge/tabforge/internal/formatversion"
	"github.com/tabforge/tabforge/model"
)

// FuzzUnmarshalTree: any bytes decode to a tree, to ErrCorrupt or to a
// newer version's refusal, never
// a panic, and a decoded tree walks every row of its width to a leaf
// whose values fit its outputs. Seeds are version 2 (regression) and
// version 3 (multiclass leaf table) encodings.
func FuzzUnmarshalTree(f *testing.F) {
	for _, d := range []*model.Dataset{synthetic(80, 3, model.Regression, 1), synthetic(120, 3, model.Multiclass, 2)} {
		m, err := Train(context.Background(), Params{MaxDepth: 4}, d, model.FitOptions{})
		if err != nil {
			f.Fatal(err)
		}
		b, err := m.Tree().MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var tr Tree
		if err := tr.UnmarshalBinary(b); err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, formatversion.ErrNewer) {
				t.Fatalf("UnmarshalBinary = %v; want ErrCorrupt or ErrNewer", err)
			}
			return
		}
		if tr.NumOutputs < 1 || tr.NumOutputs > 1<<16 || tr.NumFeatures > 1<<12 {
			return // decodes, but too wide to walk here
		}
		x := make([]float64, tr.NumFeatures)
		dst := make([]float64, tr.NumOutputs)
		for _, v := range []float64{-1e300, 0, 1e300} {
			for j := range x {
				x[j] = v
			}
			tr.LeafValue(dst, tr.Leaf(x))
		}
	})
}
