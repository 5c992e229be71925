package features

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/frame"
)

// ym returns the Unix seconds of the first of month m of year y (UTC).
func ym(y, m int) float64 { return ymd(y, m, 1) }

func ymd(y, m, d int) float64 {
	return float64(time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Unix())
}

// column returns the values of numeric column name of f.
func column(t *testing.T, f *frame.Frame, name string) []float64 {
	t.Helper()
	c, ok := f.Lookup(name)
	if !ok {
		t.Fatalf("no column %q in %q", name, f.Names())
	}
	return c.Num
}

// checkColumns compares named numeric columns of f with want (NaN equal
// to NaN; exact otherwise up to 1e-12 relative).
func checkColumns(t *testing.T, f *frame.Frame, want map[string][]float64) {
	t.Helper()
	for name, w := range want {
		got := column(t, f, name)
		if len(got) != len(w) {
			t.Errorf("%s: %d rows; want %d", name, len(got), len(w))
			continue
		}
		for i := range w {
			if math.IsNaN(w[i]) != math.IsNaN(got[i]) || (!math.IsNaN(w[i]) && math.Abs(got[i]-w[i]) > 1e-12*math.Max(1, math.Abs(w[i]))) {
				t.Errorf("%s = %v; want %v", name, got, w)
				break
			}
		}
	}
}

// panelTrain is a two-segment monthly panel: A has Jan–May 2020, B has
// Jan and Mar 2020 (Feb absent), and B's Mar x is missing.
func panelTrain() *frame.Frame {
	return frame.MustNew(
		frame.NewCategoricalFromStrings("seg", []string{"A", "A", "A", "A", "A", "B", "B"}),
		frame.NewDatetime("date", []float64{ym(2020, 1), ym(2020, 2), ym(2020, 3), ym(2020, 4), ym(2020, 5), ym(2020, 1), ym(2020, 3)}),
		frame.NewNumeric("x", []float64{1, 2, 3, 4, 5, 7, nan}),
		frame.NewNumeric("y", []float64{10, 20, 30, 40, 50, 1, 3}),
	)
}

// panelTest holds rows beyond, before and inside the training range, an
// unseen segment and a missing segment.
func panelTest() *frame.Frame {
	return frame.MustNew(
		frame.NewCategoricalFromStrings("seg", []string{"A", "A", "C", "B", "", "A"}),
		frame.NewDatetime("date", []float64{ym(2020, 8), ym(2019, 12), ym(2020, 6), ym(2020, 6), ym(2020, 6), nan}),
		frame.NewNumeric("x", []float64{0, 0, 0, 0, 0, 0}),
		frame.NewNumeric("y", []float64{99, 99, 99, 99, 99, 99}),
	)
}

func panelTemporal() Temporal {
	return Temporal{TimeColumn: "date", Target: "y", SegmentColumn: "seg", Lags: []int{1, 2}, Windows: []int{2}, LagColumns: []string{"x"}}
}

func TestTemporalPanel(t *testing.T) {
	ctx := context.Background()
	fc, trainOut, err := Chain{panelTemporal()}.FitTransform(ctx, panelTrain())
	if err != nil {
		t.Fatal(err)
	}
	ft := fc[0].(*FittedTemporal)
	wantNames := []string{
		"time_quarter", "time_month", "time_month_sin", "time_month_cos", "time_elapsed", // year is constant (2020)
		"y_lag1", "y_lag2", "y_roll2_mean", "y_roll2_std", "y_roll2_min", "y_roll2_max", "y_last",
		"x_lag1", "x_lag2", "x_roll2_mean", "x_roll2_std", "x_roll2_min", "x_roll2_max", "x_last",
		"periods_since_last",
	}
	if got := strings.Join(ft.Names(), " "); got != strings.Join(wantNames, " ") {
		t.Fatalf("Names() = %s; want %s", got, strings.Join(wantNames, " "))
	}
	s50 := math.Sqrt(50) // sample std of {10, 20}, {20, 30}, ...
	checkColumns(t, trainOut, map[string][]float64{
		"time_quarter":       {1, 1, 1, 2, 2, 1, 1},
		"time_month":         {1, 2, 3, 4, 5, 1, 3},
		"time_month_cos":     {1, math.Cos(math.Pi / 6), math.Cos(math.Pi / 3), math.Cos(math.Pi / 2), math.Cos(2 * math.Pi / 3), 1, math.Cos(math.Pi / 3)},
		"time_elapsed":       {0, 1, 2, 3, 4, 0, 2},
		"y_lag1":             {nan, 10, 20, 30, 40, nan, nan}, // B has no Feb
		"y_lag2":             {nan, nan, 10, 20, 30, nan, 1},
		"y_roll2_mean":       {nan, 10, 15, 25, 35, nan, 1},
		"y_roll2_std":        {nan, nan, s50, s50, s50, nan, nan},
		"y_roll2_min":        {nan, 10, 10, 20, 30, nan, 1},
		"y_roll2_max":        {nan, 10, 20, 30, 40, nan, 1},
		"y_last":             {nan, 10, 20, 30, 40, nan, 1},
		"x_lag2":             {nan, nan, 1, 2, 3, nan, 7},
		"x_last":             {nan, 1, 2, 3, 4, nan, 7},
		"periods_since_last": {nan, 1, 1, 1, 1, nan, 2},
	})
	// Training rows get the same features from Transform.
	again, err := ft.Transform(panelTrain())
	if err != nil {
		t.Fatal(err)
	}
	if err := sameFrame(again, trainOut); err != nil {
		t.Errorf("Transform(train) differs from FitTransform: %v", err)
	}

	// New rows: beyond the range (Aug: Jun, Jul unknown), before it, an
	// unseen and a missing segment, a missing date.
	out, err := ft.Transform(panelTest())
	if err != nil {
		t.Fatal(err)
	}
	checkColumns(t, out, map[string][]float64{
		"time_month":         {8, 12, 6, 6, 6, nan},
		"time_elapsed":       {7, -1, 5, 5, 5, nan},
		"y_lag1":             {nan, nan, nan, nan, nan, nan},
		"y_lag2":             {nan, nan, nan, nan, nan, nan},
		"y_roll2_mean":       {45, nan, nan, 2, nan, nan},
		"y_roll2_std":        {s50, nan, nan, math.Sqrt2, nan, nan},
		"y_last":             {50, nan, nan, 3, nan, nan},
		"x_last":             {5, nan, nan, 7, nan, nan}, // B's Mar x is missing: last known is Jan
		"x_roll2_mean":       {4.5, nan, nan, 7, nan, nan},
		"periods_since_last": {3, nan, nan, 3, nan, nan},
	})
	// Input columns are kept unchanged, in order, before the new ones.
	if got := out.Names()[:4]; strings.Join(got, ",") != "seg,date,x,y" {
		t.Errorf("input columns = %q", got)
	}
}

func TestTemporalCalendarDaily(t *testing.T) {
	train := frame.MustNew(
		frame.NewDatetime("d", []float64{ymd(2021, 3, 31), ymd(2021, 1, 1), ymd(2020, 12, 31), ymd(2021, 1, 4)}),
	)
	f, err := Temporal{TimeColumn: "d"}.Fit(context.Background(), train)
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.Transform(train)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.(*FittedTemporal).Names()); n != 13 {
		t.Errorf("%d features %q; want 12 calendar parts and time_elapsed", n, f.(*FittedTemporal).Names())
	}
	// Weekdays: 2021-03-31 Wed, 2021-01-01 Fri, 2020-12-31 Thu, 2021-01-04
	// Mon. 2020 has 53 ISO weeks, so 2021-01-01 is in week 53 of 2020.
	checkColumns(t, out, map[string][]float64{
		"time_year":        {2021, 2021, 2020, 2021},
		"time_quarter":     {1, 1, 4, 1},
		"time_week":        {13, 53, 53, 1},
		"time_dow":         {2, 4, 3, 0},
		"time_doy":         {90, 1, 366, 4},
		"time_month_end":   {1, 0, 1, 0},
		"time_quarter_end": {1, 0, 1, 0},
		"time_dow_sin":     {math.Sin(4 * math.Pi / 7), math.Sin(8 * math.Pi / 7), math.Sin(6 * math.Pi / 7), 0},
		"time_elapsed":     {90, 1, 0, 4}, // days since 2020-12-31
	})
}

func TestTemporalYearMonthColumns(t *testing.T) {
	// Several sales per month, as in ames: the history is the monthly mean.
	train := frame.MustNew(
		frame.NewNumeric("Year_Sold", []float64{2008, 2008, 2008, 2008}),
		frame.NewNumeric("Mo_Sold", []float64{1, 1, 2, 4}),
		frame.NewNumeric("price", []float64{100, 200, 300, 500}),
	)
	tr := Temporal{TimeColumn: "Year_Sold, Mo_Sold", Target: "price", Lags: []int{1, 2}, Windows: []int{}}
	f, err := tr.Fit(context.Background(), train)
	if err != nil {
		t.Fatal(err)
	}
	test := frame.MustNew(
		frame.NewNumeric("Year_Sold", []float64{2008, 2008, 2009, 2008}),
		frame.NewNumeric("Mo_Sold", []float64{2, 3, 1, 13}), // month 13 is invalid: missing
	)
	out, err := f.Transform(test)
	if err != nil {
		t.Fatal(err)
	}
	checkColumns(t, out, map[string][]float64{
		"time_month":         {2, 3, 1, nan},
		"time_elapsed":       {1, 2, 12, nan},
		"price_lag1":         {150, 300, nan, nan},
		"price_lag2":         {nan, 150, nan, nan},
		"price_last":         {150, 300, 500, nan},
		"periods_since_last": {1, 1, 9, nan},
	})
}

func TestTemporalNumericTime(t *testing.T) {
	// Every other year: the period is 2 years.
	train := frame.MustNew(
		frame.NewNumeric("year", []float64{2000, 2002, 2004}),
		frame.NewNumeric("y", []float64{1, 2, 3}),
	)
	f, err := Temporal{TimeColumn: "year", Target: "y", Lags: []int{1}, Windows: []int{}}.Fit(context.Background(), train)
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.Transform(frame.MustNew(frame.NewNumeric("year", []float64{2004, 2006, 2010, 1990})))
	if err != nil {
		t.Fatal(err)
	}
	checkColumns(t, out, map[string][]float64{
		"time_elapsed":       {4, 6, 10, -10},
		"y_lag1":             {2, 3, nan, nan},
		"y_last":             {2, 3, 3, nan},
		"periods_since_last": {1, 1, 3, nan},
	})
}

func TestTemporalErrors(t *testing.T) {
	ctx := context.Background()
	train := panelTrain()
	tests := []struct {
		name string
		tr   Temporal
	}{
		{"no time column", Temporal{}},
		{"three time columns", Temporal{TimeColumn: "a,b,c"}},
		{"absent time column", Temporal{TimeColumn: "nope"}},
		{"categorical time", Temporal{TimeColumn: "seg"}},
		{"zero lag", Temporal{TimeColumn: "date", Target: "y", Lags: []int{0}}},
		{"zero window", Temporal{TimeColumn: "date", Target: "y", Windows: []int{0}}},
		{"target is a lag column", Temporal{TimeColumn: "date", Target: "y", LagColumns: []string{"y"}}},
		{"absent target", Temporal{TimeColumn: "date", Target: "nope"}},
		{"categorical target", Temporal{TimeColumn: "date", Target: "seg"}},
	}
	for _, tt := range tests {
		if f, err := tt.tr.Fit(ctx, train); err == nil {
			t.Errorf("%s: Fit = %v; want error", tt.name, f)
		}
	}
	f, err := panelTemporal().Fit(ctx, train)
	if err != nil {
		t.Fatal(err)
	}
	var mce *MissingColumnError
	if _, err := f.Transform(train.Drop("date")); !errors.As(err, &mce) {
		t.Errorf("Transform without the time column: error %v; want *MissingColumnError", err)
	}
	if _, err := f.Transform(train.Drop("seg")); !errors.As(err, &mce) {
		t.Errorf("Transform without the segment column: error %v; want *MissingColumnError", err)
	}
	// A frame that already has an output column is refused at fit time.
	clash, _ := train.With(frame.NewNumeric("y_last", make([]float64, train.NumRows())))
	if _, err := panelTemporal().Fit(ctx, clash); err == nil {
		t.Error("Fit with an existing y_last column: no error")
	}
}

// TestTemporalPanelCoverage checks that history features are made for a
// panel (every segment observed every month) and left out, calendar parts
// kept, when segments are observed in too few of their months.
func TestTemporalPanelCoverage(t *testing.T) {
	build := func(every int) *frame.Frame {
		var times, y []float64
		var segs []string
		for s, seg := range []string{"a", "b", "c"} {
			for m := 0; m < 36; m++ {
				if (m+s)%every != 0 {
					continue
				}
				times = append(times, float64(time.Date(2010, time.Month(1+m), 1, 0, 0, 0, 0, time.UTC).Unix()))
				segs = append(segs, seg)
				y = append(y, float64(100+m))
			}
		}
		return frame.MustNew(frame.NewDatetime("date", times), frame.NewCategoricalFromStrings("seg", segs), frame.NewNumeric("y", y))
	}
	tests := []struct {
		name    string
		every   int // a segment has a row in every every-th month
		history bool
	}{
		{"full panel", 1, true},
		{"one month in two", 2, false},
		{"one month in three", 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := Temporal{TimeColumn: "date", Target: "y", SegmentColumn: "seg", Lags: []int{1}, Windows: []int{3}, MinPanelCoverage: 0.8}
			f, err := tr.Fit(context.Background(), build(tt.every))
			if err != nil {
				t.Fatal(err)
			}
			names := f.(*FittedTemporal).Names()
			if got := slices.Contains(names, "y_lag1"); got != tt.history {
				t.Errorf("columns %v: y_lag1 present = %v; want %v", names, got, tt.history)
			}
			if !slices.Contains(names, "time_month") {
				t.Errorf("columns %v: calendar part time_month missing", names)
			}
			if _, err := f.Transform(build(tt.every)); err != nil {
				t.Errorf("Transform: %v", err)
			}
			enc, ok := f.(Encodable)
			if !ok {
				return
			}
			b, err := json.Marshal(enc)
			if err != nil {
				t.Fatal(err)
			}
			var back FittedTemporal
			if err := json.Unmarshal(b, &back); err != nil {
				t.Errorf("round trip: %v", err)
			}
		})
	}
}

// TestTemporalHorizon checks that with a Horizon the training rows get the
// history of a forecast up to Horizon periods ahead: the last known value
// is 1 to Horizon periods old, lags shorter than that are unknown, and
// every age occurs; rows transformed for prediction keep one-step history.
func TestTemporalHorizon(t *testing.T) {
	var times, y []float64
	var segs []string
	for _, seg := range []string{"a", "b"} {
		for m := range 48 {
			times = append(times, float64(time.Date(2010, time.Month(1+m), 1, 0, 0, 0, 0, time.UTC).Unix()))
			segs = append(segs, seg)
			y = append(y, float64(m))
		}
	}
	train := frame.MustNew(frame.NewDatetime("date", times), frame.NewCategoricalFromStrings("seg", segs), frame.NewNumeric("y", y))
	const horizon = 6
	tr := Temporal{TimeColumn: "date", Target: "y", SegmentColumn: "seg", Lags: []int{1, 3}, Windows: []int{3}, Horizon: horizon, Seed: 1}
	f, x, err := tr.FitTransform(context.Background(), train)
	if err != nil {
		t.Fatal(err)
	}
	since, _ := x.Lookup("periods_since_last")
	last, _ := x.Lookup("y_last")
	lag1, _ := x.Lookup("y_lag1")
	lag3, _ := x.Lookup("y_lag3")
	seen := map[float64]bool{}
	for i := range x.NumRows() {
		s := since.Num[i]
		if math.IsNaN(s) { // the first months have no history yet
			continue
		}
		seen[s] = true
		if s < 1 || s > horizon {
			t.Fatalf("row %d: history %v periods old; want 1..%d", i, s, horizon)
		}
		if want := y[i] - s; last.Num[i] != want {
			t.Errorf("row %d: last known %v; want %v (the value %v periods back)", i, last.Num[i], want, s)
		}
		if s > 1 && !math.IsNaN(lag1.Num[i]) {
			t.Errorf("row %d: lag 1 known although history is %v periods old", i, s)
		}
		if s > 3 && !math.IsNaN(lag3.Num[i]) {
			t.Errorf("row %d: lag 3 known although history is %v periods old", i, s)
		}
	}
	if len(seen) != horizon {
		t.Errorf("history ages %v; want all of 1..%d", seen, horizon)
	}
	pred, err := f.Transform(train)
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := pred.Lookup("periods_since_last")
	for i := range pred.NumRows() {
		if v := ps.Num[i]; !math.IsNaN(v) && v != 1 {
			t.Fatalf("Transform row %d: history %v periods old; want 1 for rows inside the training range", i, v)
		}
	}
}
