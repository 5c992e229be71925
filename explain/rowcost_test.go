package explain

import (
	"testing"

	"github.com/tabforge/tabforge/model"
)

// TestRowCost checks that the cost estimate grows with the trees: deeper
// and more trees cost more, in proportion to nodes × depth.
func TestRowCost(t *testing.T) {
	d := synth(model.Regression, 2000, 5, 1, false)
	cost := func(trees, depth int) float64 {
		e, err := NewTreeEnsemble(fitForest(t, d, trees, depth))
		if err != nil {
			t.Fatal(err)
		}
		return e.RowCost()
	}
	shallow, deep, many := cost(5, 3), cost(5, 0), cost(20, 3)
	if !(deep > 20*shallow) {
		t.Errorf("fully grown trees cost %g, depth-3 ones %g: want far more", deep, shallow)
	}
	if r := many / shallow; r < 3 || r > 5 {
		t.Errorf("20 depth-3 trees cost %.2f× 5 of them; want about 4×", r)
	}
	if _, err := NewTreeEnsemble(nil); err == nil {
		t.Error("NewTreeEnsemble(nil) did not fail")
	}
}
