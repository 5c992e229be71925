package features

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/frame"
)

// interactionFrame has y = 3·a·b + c, two noise columns, two
// low-cardinality categoricals (2 and 3 levels) and one with 12 levels.
func interactionFrame(n int, seed uint64) *frame.Frame {
	rng := rand.New(rand.NewPCG(seed, 1))
	a, b, c, z1, z2, y := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	k2, k3, k12 := make([]string, n), make([]string, n), make([]string, n)
	for i := range n {
		a[i], b[i], c[i] = rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()
		z1[i], z2[i] = rng.NormFloat64(), rng.NormFloat64()
		y[i] = 3*a[i]*b[i] + c[i]
		k2[i] = fmt.Sprint("p", rng.IntN(2))
		k3[i] = fmt.Sprint("q", rng.IntN(3))
		k12[i] = fmt.Sprint("r", i%12)
	}
	return frame.MustNew(
		frame.NewNumeric("z1", z1), frame.NewNumeric("a", a), frame.NewNumeric("z2", z2),
		frame.NewNumeric("b", b), frame.NewNumeric("c", c),
		frame.NewCategoricalFromStrings("k2", k2), frame.NewCategoricalFromStrings("k12", k12),
		frame.NewCategoricalFromStrings("k3", k3),
		frame.NewNumeric("y", y),
	)
}

func TestInteractionChoosesPairs(t *testing.T) {
	ctx := context.Background()
	train := interactionFrame(600, 1)
	f, err := Interaction{Target: "y", TopK: 3, MaxNew: 7, Categorical: true, Seed: 1}.Fit(ctx, train)
	if err != nil {
		t.Fatal(err)
	}
	fi := f.(*FittedInteraction)
	// a and b carry the signal, c next; the noise columns rank last.
	if got := fi.ranked; len(got) != 3 || !slices.Contains(got[:2], "a") || !slices.Contains(got[:2], "b") || got[2] != "c" {
		t.Fatalf("ranked = %q; want a and b, then c", got)
	}
	var names []string
	for _, p := range fi.Pairs() {
		names = append(names, p.Name())
	}
	top, second := fi.ranked[0], fi.ranked[1]
	want := []string{
		top + "_x_" + second, top + "_div_" + second, "k2_x_k3", // k12 has 12 levels: not crossed
		top + "_x_c", top + "_div_c",
		second + "_x_c", second + "_div_c", // capped at 7
	}
	if !slices.Equal(names, want) {
		t.Errorf("pairs = %q; want %q", names, want)
	}
}

func TestInteractionValues(t *testing.T) {
	fi := &FittedInteraction{pairs: []InteractionPair{{"a", "b", opProduct}, {"a", "b", opRatio}, {"k", "m", opCross}}}
	x := frame.MustNew(
		frame.NewNumeric("a", []float64{6, 1, nan, 1e300}),
		frame.NewNumeric("b", []float64{2, 0, 1, 1e300}),
		frame.NewCategoricalFromStrings("k", []string{"u", "v", "", "u"}),
		frame.NewCategoricalFromStrings("m", []string{"s", "s", "s", "t"}),
	)
	out, err := fi.Transform(x)
	if err != nil {
		t.Fatal(err)
	}
	checkColumns(t, out, map[string][]float64{
		"a_x_b":   {12, 0, nan, nan}, // overflow is NaN
		"a_div_b": {3, nan, nan, 1},  // division by 0 is NaN
	})
	c, _ := out.Lookup("k_x_m")
	var labels []string
	for i := range c.Len() {
		labels = append(labels, c.Label(i))
	}
	if want := []string{"u|s", "v|s", "", "u|t"}; !slices.Equal(labels, want) {
		t.Errorf("cross labels = %q; want %q", labels, want)
	}
}

func TestInteractionErrors(t *testing.T) {
	ctx := context.Background()
	train := interactionFrame(50, 2)
	for _, it := range []Interaction{{}, {Target: "nope"}, {Target: "k12"}, {Target: "y", TopK: -1}} {
		if f, err := it.Fit(ctx, train); err == nil {
			t.Errorf("%+v: Fit = %v; want error", it, f)
		}
	}
	f, err := Interaction{Target: "y"}.Fit(ctx, train)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Transform(train.Drop("a")); err == nil {
		t.Error("Transform without an input column: no error")
	}
}
