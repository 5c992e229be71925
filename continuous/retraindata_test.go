package continuous

import (
	"math"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/frame"
)

// TestNewestRowsKeepsTies checks that the held-out newest rows never share
// a time with a row the challenger trains on: survival_rotterdam by year
// held out 153 of 1991's 279 rows, and the 126 left to train on were all
// of one class in file order, so every tree learnt "1991 means no
// relapse" and scored AUC 0.5 on the held-out rows.
func TestNewestRowsKeepsTies(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name  string
		times []float64
		k     int
		want  []int
	}{
		{"cut inside a tie moves back", []float64{1, 2, 2, 3, 3, 3}, 2, []int{3, 4, 5}},
		{"cut between times stays", []float64{1, 2, 2, 3, 3, 3}, 3, []int{3, 4, 5}},
		{"tie reaching the oldest row moves forward", []float64{1, 1, 1, 1, 2}, 3, []int{4}},
		{"one time for every row: the last k", []float64{5, 5, 5, 5}, 2, []int{2, 3}},
		{"file order is not time order", []float64{3, 1, 3, 2, 2}, 1, []int{0, 2}},
		{"missing times are the oldest", []float64{nan, 2, nan, 2, 3}, 3, []int{1, 3, 4}},
		{"missing times tied to the oldest", []float64{nan, nan, 2}, 2, []int{2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, err := frame.New(frame.NewNumeric("t", tc.times), frame.NewNumeric("y", make([]float64, len(tc.times))))
			if err != nil {
				t.Fatal(err)
			}
			got := newestRows(x, "t", tc.k)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("newestRows(%v, k=%d) = %v, want %v", tc.times, tc.k, got, tc.want)
			}
		})
	}
}

func TestNewestRowsWithoutTimeColumn(t *testing.T) {
	x, err := frame.New(frame.NewNumeric("y", []float64{1, 1, 1, 1}))
	if err != nil {
		t.Fatal(err)
	}
	if got := newestRows(x, "", 2); !slices.Equal(got, []int{2, 3}) {
		t.Fatalf("newestRows without a time column = %v, want the last 2 rows", got)
	}
}
