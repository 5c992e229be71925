package explain

import (
	"context"
	"math"
	"testing"

	"github.com/tabforge/tabforge/model"
)

// softmax3 is a three-class model of knownData's columns: class scores
// 0, x0 − 5 and x1, turned into probabilities.
func softmax3(dst []float64, x *model.Matrix) error {
	for r := range x.Rows {
		s := [3]float64{0, x.At(r, 0) - 5, x.At(r, 1)}
		sum := 0.0
		for c := range s {
			s[c] = math.Exp(s[c])
			sum += s[c]
		}
		for c := range s {
			dst[3*r+c] = s[c] / sum
		}
	}
	return nil
}

// TestPartialDependenceOutputs checks that each output's curve is the
// one PartialDependence gives for that output, and that the curves of a
// classifier's probabilities sum to 1 at every grid point.
func TestPartialDependenceOutputs(t *testing.T) {
	x := knownData(150, 4)
	all, err := PartialDependenceOutputs(context.Background(), softmax3, 3, x, 0, PDOptions{GridSize: 8}, []string{"a", "b", "c", "d", "e"})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Average) != 3 || len(all.Grid) != 8 || all.Name != "a" || all.Rows != 150 {
		t.Fatalf("%d curves over %d grid points, name %q, %d rows", len(all.Average), len(all.Grid), all.Name, all.Rows)
	}
	for out := range 3 {
		one, err := PartialDependence(context.Background(), softmax3, 3, x, 0, PDOptions{GridSize: 8, Output: out}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for g := range one.Grid {
			if math.Abs(all.Average[out][g]-one.Average[g]) > 1e-12 {
				t.Fatalf("output %d at %v: %v; PartialDependence gives %v", out, one.Grid[g], all.Average[out][g], one.Average[g])
			}
		}
	}
	for g := range all.Grid {
		if s := all.Average[0][g] + all.Average[1][g] + all.Average[2][g]; math.Abs(s-1) > 1e-12 {
			t.Fatalf("probabilities at %v sum to %v", all.Grid[g], s)
		}
	}
	// x0 raises class 1's score alone: its probability rises along the grid.
	if c1 := all.Average[1]; c1[len(c1)-1] <= c1[0] {
		t.Fatalf("class 1's curve %v does not rise with x0", c1)
	}
	if _, err := PartialDependenceOutputs(context.Background(), softmax3, 3, x, 7, PDOptions{}, nil); err == nil {
		t.Error("feature 7 of 5: no error")
	}
}
