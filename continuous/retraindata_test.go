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
		{"cut inside a tie ending the data moves back", []float64{1, 2, 2, 3, 3, 3}, 2, []int{3, 4, 5}},
		// Moving back to the start of the tie held out 5 rows here, 4 more
		// than the end of the tie, 1 row away.
		{"cut near a tie's end moves forward", []float64{1, 2, 2, 2, 2, 3}, 2, []int{5}},
		{"cut near a tie's start moves back", []float64{1, 2, 2, 2, 2, 3}, 4, []int{1, 2, 3, 4, 5}},
		{"cut mid-tie moves back", []float64{1, 2, 2, 2, 2, 3}, 3, []int{1, 2, 3, 4, 5}},
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

// TestNewestRowsByTimeParts checks that a time column given in parts
// (Bundesliga's "Year,Round", trained with --time-column Year,Round)
// orders the held-out rows as training orders them: Lookup of the
// whole spec found no column, and retrain held out the last rows in
// file order, here the oldest season.
func TestNewestRowsByTimeParts(t *testing.T) {
	x, err := frame.New(
		frame.NewNumeric("Year", []float64{2008, 2008, 2007, 2007, 2007, 2006}),
		frame.NewNumeric("Round", []float64{2, 1, 2, 2, 1, 2}),
		frame.NewNumeric("y", make([]float64, 6)))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := newestRows(x, "Year,Round", 2), []int{0, 1}; !slices.Equal(got, want) {
		t.Fatalf("newestRows by Year,Round, k=2 = %v, want %v (2008's rounds)", got, want)
	}
	// Round 2 of 2007 is one time: both its rows are held out together.
	if got, want := newestRows(x, "Year,Round", 3), []int{0, 1, 2, 3}; !slices.Equal(got, want) {
		t.Fatalf("newestRows by Year,Round, k=3 = %v, want %v", got, want)
	}
}

// TestCheckTimeColumn checks that new data lacking the champion's time
// column, or holding it as text, is refused rather than held out in
// file order: a champion trained with --drop year --time-column year
// never needs the column to predict, so nothing else noticed.
func TestCheckTimeColumn(t *testing.T) {
	x, err := frame.New(
		frame.NewNumeric("year", []float64{1990, 1991}),
		frame.NewCategorical("when", []int32{0, 1}, []string{"early", "late"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		spec string
		ok   bool
	}{
		{"", true}, {"year", true}, {"missing", false}, {"year,missing", false}, {"when", false},
	} {
		err := checkTimeColumn(x, tc.spec, "new.csv")
		if (err == nil) != tc.ok {
			t.Errorf("checkTimeColumn(%q) = %v; want ok %v", tc.spec, err, tc.ok)
		}
	}
}

func TestTimePart(t *testing.T) {
	for _, tc := range []struct {
		spec, name string
		want       bool
	}{
		{"year", "year", true}, {"Year,Round", "Round", true}, {"Year, Round", "Round", true},
		{"Year,Round", "HomeTeam", false}, {"", "year", false},
	} {
		if got := timePart(tc.spec, tc.name); got != tc.want {
			t.Errorf("timePart(%q, %q) = %v, want %v", tc.spec, tc.name, got, tc.want)
		}
	}
}
