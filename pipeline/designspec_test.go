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
// one for the rest; the trees read it as one ordinal column.
func TestDesignSpecCapsOneHot(t *testing.T) {
	ids := make([]string, 3000)
	for i := range ids {
		ids[i] = fmt.Sprintf("id%04d", i%2500)
	}
	x := frame.MustNew(frame.NewCategoricalFromStrings("id", ids))
	for _, tc := range []struct {
		family  string
		maxCols int
	}{{"ridge", maxOneHotLevels + 1}, {"logistic", maxOneHotLevels + 1}, {"gbdt", 1}} {
		fam, err := Families().Lookup(tc.family)
		if err != nil {
			t.Fatal(err)
		}
		d, err := features.FitDesign(context.Background(), x, designSpec(fam))
		if err != nil {
			t.Fatal(err)
		}
		if n := d.NumFeatures(); n < 1 || n > tc.maxCols {
			t.Errorf("%s: %d design columns from 2500 levels; want 1 to %d", tc.family, n, tc.maxCols)
		}
	}
}
