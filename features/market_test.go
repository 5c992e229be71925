package features

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/frame"
)

// marketTrain: segment a has 3 rows, b 2 rows, c 1 row and one row has a
// missing segment.
func marketTrain() *frame.Frame {
	return frame.MustNew(
		frame.NewCategoricalFromStrings("seg", []string{"a", "a", "a", "b", "b", "c", ""}),
		frame.NewNumeric("area", []float64{10, 20, 60, 5, nan, 8, 1}),
		frame.NewNumeric("y", []float64{1, 2, 3, 10, 20, 100, 7}),
	)
}

func TestMarketValues(t *testing.T) {
	ctx := context.Background()
	// No pooling (MinCount 1), smoothing m = 2.
	m := Market{Segments: []string{"seg"}, Target: "y", Columns: []string{"area"}, Smoothing: 2, MinCount: 1}
	f, err := m.Fit(ctx, marketTrain())
	if err != nil {
		t.Fatal(err)
	}
	test := frame.MustNew(
		frame.NewCategoricalFromStrings("seg", []string{"a", "b", "zzz", ""}),
		frame.NewNumeric("area", []float64{40, 10, 8, 0}),
	)
	out, err := f.Transform(test)
	if err != nil {
		t.Fatal(err)
	}
	prior := 143.0 / 7
	// All training rows for an unseen label: area median of {10,20,60,5,8,1} = 9.
	allMean, allStd := 104.0/6, stdOf([]float64{10, 20, 60, 5, 8, 1})
	checkColumns(t, out, map[string][]float64{
		"seg_count":       {3, 2, 0, 1},
		"seg_area_mean":   {30, 5, allMean, 1},
		"seg_area_median": {20, 5, 9, 1},
		"seg_area_std":    {math.Sqrt(700), nan, allStd, nan}, // b has one known area
		"seg_area_ratio":  {2, 2, 8.0 / 9, 0},
		"seg_y_te":        {(6 + 2*prior) / 5, (30 + 2*prior) / 4, prior, (7 + 2*prior) / 3},
	})
}

func stdOf(v []float64) float64 {
	_, s, _, _ := summarize(v)
	return s
}

func TestMarketRarePooling(t *testing.T) {
	// MinCount 3: b (2 rows), c (1) and the missing segment (1) are pooled.
	m := Market{Segments: []string{"seg"}, Target: "y", Columns: []string{"area"}, Smoothing: -1, MinCount: 3}
	f, err := m.Fit(context.Background(), marketTrain())
	if err != nil {
		t.Fatal(err)
	}
	test := frame.MustNew(
		frame.NewCategoricalFromStrings("seg", []string{"a", "b", "c", "new"}),
		frame.NewNumeric("area", []float64{1, 1, 1, 1}),
	)
	out, err := f.Transform(test)
	if err != nil {
		t.Fatal(err)
	}
	pool := (10.0 + 20 + 100 + 7) / 4 // no smoothing
	checkColumns(t, out, map[string][]float64{
		"seg_count":       {3, 2, 1, 0},
		"seg_y_te":        {2, pool, pool, pool},
		"seg_area_median": {20, 5, 5, 5}, // pool areas {5, 8, 1}
	})
}

func TestMarketOutOfFold(t *testing.T) {
	ctx := context.Background()
	train := marketTrain()
	m := Market{Segments: []string{"seg"}, Target: "y", Folds: 3, Smoothing: 2, MinCount: 1, Seed: 7}
	_, oofFrame, err := m.FitTransform(ctx, train)
	if err != nil {
		t.Fatal(err)
	}
	got := column(t, oofFrame, "seg_y_te")

	// Recompute each row's encoding from the other folds by brute force.
	fold := assignFolds(train.NumRows(), 3, 7)
	labels, _ := marketLabels(train, "seg")
	y := column(t, train, "y")
	for i := range y {
		var s, n, ps, pn float64
		for j := range y {
			if fold[j] == fold[i] {
				continue
			}
			ps += y[j]
			pn++
			if labels[j] == labels[i] {
				s += y[j]
				n++
			}
		}
		want := smoothMean(s, n, 2, ps/pn)
		if math.Abs(got[i]-want) > 1e-12 {
			t.Errorf("row %d: out-of-fold encoding %v; want %v", i, got[i], want)
		}
	}

	// A training row's encoding never depends on its own target.
	for i := range y {
		y2 := slices.Clone(y)
		y2[i] += 1000
		changed, _ := train.With(frame.NewNumeric("y", y2))
		_, out2, err := m.FitTransform(ctx, changed)
		if err != nil {
			t.Fatal(err)
		}
		if g := column(t, out2, "seg_y_te")[i]; g != got[i] {
			t.Errorf("row %d: encoding changed from %v to %v when its own target changed", i, got[i], g)
		}
	}

	// The fold assignment is seeded: another seed gives other folds.
	if slices.Equal(assignFolds(100, 5, 7), assignFolds(100, 5, 8)) {
		t.Error("assignFolds ignores the seed")
	}
	if !slices.Equal(assignFolds(100, 5, 7), assignFolds(100, 5, 7)) {
		t.Error("assignFolds is not deterministic")
	}
}

func TestMarketBinaryTarget(t *testing.T) {
	train := frame.MustNew(
		frame.NewCategoricalFromStrings("seg", []string{"a", "a", "b", "b"}),
		frame.NewCategoricalFromStrings("Status", []string{"bad", "good", "good", "good"}),
	)
	f, err := Market{Segments: []string{"seg"}, Target: "Status", Smoothing: -1, MinCount: 1}.Fit(context.Background(), train)
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.Transform(train.Drop("Status"))
	if err != nil {
		t.Fatal(err)
	}
	// "good" > "bad", so good counts as 1.
	checkColumns(t, out, map[string][]float64{"seg_Status_te": {0.5, 0.5, 1, 1}})
}

func TestMarketErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		m    Market
	}{
		{"no segments", Market{Target: "y"}},
		{"one fold", Market{Segments: []string{"seg"}, Target: "y", Folds: 1}},
		{"target aggregated", Market{Segments: []string{"seg"}, Target: "y", Columns: []string{"y"}}},
		{"segment is target", Market{Segments: []string{"y"}, Target: "y"}},
		{"absent segment", Market{Segments: []string{"nope"}}},
		{"categorical column", Market{Segments: []string{"seg"}, Columns: []string{"seg2"}}},
		{"NaN smoothing", Market{Segments: []string{"seg"}, Smoothing: math.NaN()}},
	}
	train, _ := marketTrain().With(frame.NewCategoricalFromStrings("seg2", make([]string, 7)))
	for _, tt := range tests {
		if f, err := tt.m.Fit(ctx, train); err == nil {
			t.Errorf("%s: Fit = %v; want error", tt.name, f)
		}
	}
}
