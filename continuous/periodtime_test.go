package continuous

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/frame"
)

// TestPeriodColumnParts cuts periods on time columns given in parts:
// numeric year, month (and day) parts read as dates under a date start,
// the first part under a number start; a row missing a part is in no
// period, and parts that are no calendar are refused with the way out.
func TestPeriodColumnParts(t *testing.T) {
	nan := math.NaN()
	x, err := frame.New(
		frame.NewNumeric("Year", []float64{2020, 2020, 2020, 2021, 2021, 2021}),
		frame.NewNumeric("Month", []float64{1, 2, 2, 1, nan, 3}),
		frame.NewNumeric("Day", []float64{31, 1, 29, 1, 1, 15}),
		frame.NewNumeric("Round", []float64{1, 2, 20, 1, 2, 3}),
		frame.NewCategoricalFromStrings("City", []string{"a", "b", "a", "b", "a", "b"}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		spec, every, start string
		before             []int
		labels             []string
		rows               [][]int
		err                string
	}{
		{spec: "Year,Month", every: "month", start: "2020-02-01", before: []int{0},
			labels: []string{"2020-02-01", "2021-01-01", "2021-03-01"}, rows: [][]int{{1, 2}, {3}, {5}}},
		{spec: "Year,Month,Day", every: "month", start: "2020-02-15", before: []int{0, 1},
			labels: []string{"2020-02-15", "2020-12-15", "2021-03-15"}, rows: [][]int{{2}, {3}, {5}}},
		{spec: "Year,Month", every: "1", start: "2021", before: []int{0, 1, 2},
			labels: []string{"2021"}, rows: [][]int{{3, 5}}},
		{spec: "Year,Round", every: "1", start: "2021", before: []int{0, 1, 2},
			labels: []string{"2021"}, rows: [][]int{{3, 4, 5}}},
		{spec: "Year, Round", every: "year", start: "2021-01-01", err: `data row 3 ([2020 20]) is not a date`},
		{spec: "Year,City", every: "year", start: "2021-01-01", err: `"City"`},
		{spec: "Year,Hour", every: "1", start: "2021", err: `"Hour" not found`},
	}
	for _, tc := range tests {
		name := tc.spec + " from " + tc.start
		c, err := periodColumn(x, tc.spec, tc.start)
		var before []int
		var ps []period
		if err == nil {
			before, _, ps, err = periods(c, tc.every, tc.start, 0)
		}
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v; want one saying %s", name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var labels []string
		var rows [][]int
		for _, p := range ps {
			labels, rows = append(labels, p.label), append(rows, p.rows)
		}
		if !slices.Equal(before, tc.before) || !slices.Equal(labels, tc.labels) || !slices.EqualFunc(rows, tc.rows, slices.Equal) {
			t.Errorf("%s: before %v, periods %v %v; want %v, %v %v", name, before, labels, rows, tc.before, tc.labels, tc.rows)
		}
	}
}

// TestBacktestTimeParts backtests Texas housing by its year and month
// columns, as train accepts them (--time-column year,month): the periods
// are the months its date column gives, 46 cities each.
func TestBacktestTimeParts(t *testing.T) {
	cfg := txConfig(filepath.Join("..", "testdata", "txhousing.csv"))
	cfg.TimeColumn = "year,month"
	r, err := Backtest(context.Background(), cfg, BacktestOptions{Every: "month", Start: "2010-01-01", Periods: 2, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r.Strategies {
		if len(s.Periods) != 2 {
			t.Fatalf("%s: %d periods; want 2", s.Name, len(s.Periods))
		}
		for j, p := range s.Periods {
			if want := []string{"2010-01-01", "2010-02-01"}[j]; p.Start != want || p.Rows != 46 || math.IsNaN(p.Score) {
				t.Errorf("%s period %d = %+v; want %s, 46 rows, a score", s.Name, j, p, want)
			}
		}
	}
}
