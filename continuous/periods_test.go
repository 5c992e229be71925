package continuous

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/frame"
)

func TestPeriods(t *testing.T) {
	day := func(s string) float64 {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return float64(d.Unix())
	}
	dates := frame.NewDatetime("d", []float64{day("2020-01-15"), day("2020-02-01"), day("2020-02-20"), day("2020-04-03"), day("2020-07-01"), day("2020-03-31")})
	nums := frame.NewNumeric("n", []float64{1, 2, 3, 4, 5, 6})
	monthEnds := frame.NewDatetime("d", []float64{day("2019-12-31"), day("2020-01-31"), day("2020-02-15"), day("2020-02-29"),
		day("2020-03-30"), day("2020-03-31"), day("2020-04-30")})
	tests := []struct {
		name         string
		c            *frame.Column
		every, start string
		limit        int
		before, last []int
		labels       []string
		rows         [][]int
		err          string
	}{
		{name: "month", c: dates, every: "month", start: "2020-02-01", before: []int{0}, last: []int{0},
			labels: []string{"2020-02-01", "2020-03-01", "2020-04-01", "2020-07-01"}, rows: [][]int{{1, 2}, {5}, {3}, {4}}},
		{name: "month limit", c: dates, every: "month", start: "2020-02-01", limit: 2, before: []int{0}, last: []int{0},
			labels: []string{"2020-02-01", "2020-03-01"}, rows: [][]int{{1, 2}, {5}}},
		{name: "quarter", c: dates, every: "quarter", start: "2020-04-01", before: []int{0, 1, 2, 5}, last: []int{0, 1, 2, 5},
			labels: []string{"2020-04-01", "2020-07-01"}, rows: [][]int{{3}, {4}}},
		{name: "days", c: dates, every: "10", start: "2020-02-01", before: []int{0}, last: nil,
			labels: []string{"2020-02-01", "2020-02-11", "2020-03-22", "2020-04-01", "2020-06-30"}, rows: [][]int{{1}, {2}, {5}, {3}, {4}}},
		{name: "numeric", c: nums, every: "2", start: "3", before: []int{0, 1}, last: []int{0, 1},
			labels: []string{"3", "5"}, rows: [][]int{{2, 3}, {4, 5}}},
		// Months count from --start on its day or the month's last: from
		// January 31 periods used to start on March 2, April 2, ...
		{name: "month end", c: monthEnds, every: "month", start: "2020-01-31", before: []int{0}, last: []int{0},
			labels: []string{"2020-01-31", "2020-02-29", "2020-03-31", "2020-04-30"}, rows: [][]int{{1, 2}, {3, 4}, {5}, {6}}},
		{name: "quarter end", c: monthEnds, every: "quarter", start: "2019-11-30", before: nil, last: nil,
			labels: []string{"2019-11-30", "2020-02-29"}, rows: [][]int{{0, 1, 2}, {3, 4, 5, 6}}},
		// At 1e17 a float64 step of 1 does not move: walking the periods
		// one by one from --start never ended.
		{name: "step below the column's precision", c: frame.NewNumeric("n", []float64{1e17, 1e17 + 1024}), every: "1", start: "1e17",
			err: "too short"},
		{name: "short step, long range", c: frame.NewNumeric("n", []float64{0, 1e9}), every: "0.5", start: "0",
			labels: []string{"0", "1e+09"}, rows: [][]int{{0}, {1}}},
		{name: "too many periods", c: nums, every: "1e-300", start: "1", err: "too many periods"},
		{name: "bad every", c: dates, every: "week", start: "2020-02-01", err: "--every week"},
		{name: "negative every", c: nums, every: "-1", start: "3", err: "--every -1"},
		{name: "numeric by month", c: nums, every: "month", start: "3", err: "numeric time column steps by a number"},
		{name: "bad start", c: dates, every: "month", start: "2020-02", err: "want YYYY-MM-DD"},
		{name: "start after the data", c: nums, every: "1", start: "7", err: "after the last"},
		{name: "categorical", c: frame.NewCategorical("c", []int32{0}, []string{"a"}), every: "1", start: "1", err: "want a datetime or a number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, last, ps, err := periods(tc.c, tc.every, tc.start, tc.limit)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("periods = %v; want an error containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var labels []string
			var rows [][]int
			for _, p := range ps {
				labels, rows = append(labels, p.label), append(rows, p.rows)
			}
			if !slices.Equal(before, tc.before) || !slices.Equal(last, tc.last) || !slices.Equal(labels, tc.labels) ||
				!slices.EqualFunc(rows, tc.rows, slices.Equal) {
				t.Errorf("periods = before %v, last %v, %v %v; want %v, %v, %v %v", before, last, labels, rows, tc.before, tc.last, tc.labels, tc.rows)
			}
		})
	}
}
