package split_test

import (
	"fmt"

	"github.com/tabforge/tabforge/split"
)

func ExampleTemporalFraction() {
	// Sale months as year*100+month; floor(0.8*10) = 8 training rows end where
	// 200902 does, so the two rows of 200903 are the test rows.
	times := []float64{200901, 200901, 200902, 200902, 200902, 200902, 200902, 200902, 200903, 200903}
	h, cutoff, err := split.TemporalFraction(times, 0.2)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cutoff, h.Test)
	// Output: 200903 [8 9]
}

func ExampleRemap() {
	// Cross-validate inside the training part of a holdout: folds are built
	// on positions 0..len(h.Train)-1, then mapped back to row indices.
	h, err := split.FromTestRows(8, []int{0, 7})
	if err != nil {
		fmt.Println(err)
		return
	}
	inner, err := split.KFold(len(h.Train), 3, false, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	folds, err := split.Remap(inner, h.Train)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range folds {
		fmt.Println(f.Test)
	}
	// Output:
	// [1 2]
	// [3 4]
	// [5 6]
}
