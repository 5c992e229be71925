package pipeline

import (
	"context"
	"fmt"
	"testing"

	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/frame"
)

// TestDesignSpecCapsOneHot: a column of thousands of ids gives the linear
// families maxOneHotLevels columns for the most frequent levels and
// one for the rest; the trees read it as one ordinal column. Trained on a
// million rows, the linear families get at most maxOneHotCells / 1M
// one-hot columns, whatever the frame the design is fitted on (a fold).
func TestDesignSpecCapsOneHot(t *testing.T) {
	ids := make([]string, 3000)
	for i := range ids {
		ids[i] = fmt.Sprintf("id%04d", i%2500)
	}
	x := frame.MustNew(frame.NewCategoricalFromStrings("id", ids))
	for _, tc := range []struct {
		family  string
		rows    int // training rows the spec is for
		maxCols int
	}{
		{"ridge", len(ids), maxOneHotLevels + 1},
		{"logistic", len(ids), maxOneHotLevels + 1},
		{"gbdt", len(ids), 1},
		{"ridge", 1_000_000, maxOneHotCells / 1_000_000},
		{"gbdt", 1_000_000, 1},
	} {
		fam, err := Families().Lookup(tc.family)
		if err != nil {
			t.Fatal(err)
		}
		d, err := features.FitDesign(context.Background(), x, designSpec(fam, tc.rows))
		if err != nil {
			t.Fatal(err)
		}
		if n := d.NumFeatures(); n < 1 || n > tc.maxCols {
			t.Errorf("%s on %d rows: %d design columns from 2500 levels; want 1 to %d", tc.family, tc.rows, n, tc.maxCols)
		}
	}
}
