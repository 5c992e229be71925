package continuous

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/split"
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

// zonedColumn parses RFC 3339 times into a datetime column keeping each
// one's UTC offset, as reading a data file does.
func zonedColumn(t *testing.T, values ...string) *frame.Column {
	t.Helper()
	secs, offs := make([]float64, len(values)), make([]int32, len(values))
	for i, v := range values {
		d, err := time.Parse(time.RFC3339, v)
		if err != nil {
			t.Fatal(err)
		}
		_, off := d.Zone()
		secs[i], offs[i] = float64(d.Unix()), int32(off)
	}
	return frame.NewDatetimeOffsets("d", secs, offs)
}

// Periods follow the civil time a datetime was written in: monthly rows
// at 00:00+02:00 fell into the month before in UTC (and their period was
// labelled by it). A row at 21:00-05:00 on 29 February is in March,
// though: it was written 4 hours after March's first row (00:00+02:00 on
// 1 March), and a period starts at one instant.
func TestPeriodsZoned(t *testing.T) {
	plus2 := zonedColumn(t, "2020-01-01T00:00:00+02:00", "2020-02-01T00:00:00+02:00", "2020-02-29T21:00:00-05:00",
		"2020-03-01T00:00:00+02:00", "2020-04-01T00:00:00+02:00")
	// Europe/Berlin: +01:00 in winter, +02:00 from the last Sunday of March.
	berlin := zonedColumn(t, "2019-01-01T00:00:00+01:00", "2019-03-01T00:00:00+01:00", "2019-04-01T00:00:00+02:00",
		"2019-07-01T00:00:00+02:00", "2019-10-01T00:00:00+02:00", "2019-11-01T00:00:00+01:00")
	berlinDays := zonedColumn(t, "2020-03-28T00:00:00+01:00", "2020-03-29T00:00:00+01:00", "2020-03-30T00:00:00+02:00",
		"2020-03-31T00:00:00+02:00")
	tests := []struct {
		name         string
		c            *frame.Column
		every, start string
		before, last []int
		labels       []string
		rows         [][]int
	}{
		{name: "month +02:00", c: plus2, every: "month", start: "2020-02-01", before: []int{0}, last: []int{0},
			labels: []string{"2020-02-01", "2020-03-01", "2020-04-01"}, rows: [][]int{{1}, {2, 3}, {4}}},
		{name: "quarter Berlin", c: berlin, every: "quarter", start: "2019-04-01", before: []int{0, 1}, last: []int{0, 1},
			labels: []string{"2019-04-01", "2019-07-01", "2019-10-01"}, rows: [][]int{{2}, {3}, {4, 5}}},
		{name: "days across DST", c: berlinDays, every: "1", start: "2020-03-29", before: []int{0}, last: []int{0},
			labels: []string{"2020-03-29", "2020-03-30", "2020-03-31"}, rows: [][]int{{1}, {2}, {3}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, last, ps, err := periods(tc.c, tc.every, tc.start, 0)
			if err != nil {
				t.Fatal(err)
			}
			var labels []string
			var rows [][]int
			// A period trains on the rows of the periods before it: in
			// UTC the first row of each period was among them too.
			train := slices.Clone(before)
			for _, p := range ps {
				labels, rows = append(labels, p.label), append(rows, p.rows)
				if got := rowsBefore(tc.c, p.lo); !slices.Equal(got, slices.Sorted(slices.Values(train))) {
					t.Errorf("rows before %s = %v; want %v", p.label, got, train)
				}
				train = append(train, p.rows...)
			}
			if !slices.Equal(before, tc.before) || !slices.Equal(last, tc.last) || !slices.Equal(labels, tc.labels) ||
				!slices.EqualFunc(rows, tc.rows, slices.Equal) {
				t.Errorf("periods = before %v, last %v, %v %v; want %v, %v, %v %v", before, last, labels, rows, tc.before, tc.last, tc.labels, tc.rows)
			}
		})
	}
}

// TestPeriodsOneInstant cuts monthly periods of rows written in Tokyo
// (+09:00) and New York (-05:00): each period starts at one instant, the
// first row written on or after its start date, so a model never trains
// on a row written after one it is tested on, and the latest period
// before each is the newest rows retrain holds out (newestRows, by
// instant). Cut by each row's own date, New York's late evening of the
// last day of a month trained the model tested on Tokyo's first hours of
// the next (written before it), and the continuous strategy held out
// rows of two periods.
func TestPeriodsOneInstant(t *testing.T) {
	c := zonedColumn(t, "2020-01-15T12:00:00+09:00", "2020-01-31T00:30:00+09:00", "2020-01-31T23:00:00-05:00",
		"2020-02-01T00:30:00+09:00", "2020-02-01T23:00:00-05:00", "2020-02-29T23:00:00-05:00",
		"2020-03-01T00:30:00+09:00", "2020-03-15T12:00:00-05:00")
	x, err := frame.New(c)
	if err != nil {
		t.Fatal(err)
	}
	before, _, ps, err := periods(c, "month", "2020-02-01", 0)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	var rows [][]int
	for _, p := range ps {
		labels, rows = append(labels, p.label), append(rows, p.rows)
	}
	if want := [][]int{{2, 3, 4}, {5, 6, 7}}; !slices.Equal(before, []int{0, 1}) || !slices.Equal(labels, []string{"2020-02-01", "2020-03-01"}) ||
		!slices.EqualFunc(rows, want, slices.Equal) {
		t.Errorf("periods = before %v, %v %v; want [0 1], [2020-02-01 2020-03-01] %v", before, labels, rows, want)
	}
	prev := before
	for _, p := range ps {
		train := rowsBefore(c, p.lo)
		for _, i := range train {
			for _, j := range p.rows {
				if c.Num[i] >= c.Num[j] {
					t.Errorf("period %s: training row %d (%v) is not before its row %d (%v)", p.label, i, c.Num[i], j, c.Num[j])
				}
			}
		}
		if p.label != "2020-02-01" { // the first model is tested on the period before start
			held := split.Take(train, newestRows(x.Take(train), "d", len(prev)))
			slices.Sort(held)
			if !slices.Equal(held, prev) {
				t.Errorf("period %s: retrain holds out rows %v; want the period before, %v", p.label, held, prev)
			}
		}
		prev = p.rows
	}
}

// TestCheckPeriods checks that CheckPeriods, which runs before the data
// is read, names what is wrong: with years held as numbers (AER's
// USSeatBelts, Gapminder) --every year --start 1995 was refused with
// "--start "1995": want YYYY-MM-DD", which blamed the one right flag.
func TestCheckPeriods(t *testing.T) {
	tests := []struct {
		every, start string
		err          string // "" = accepted
	}{
		{every: "year", start: "2020-01-01"},
		{every: "1", start: "1995"},
		{every: "30", start: "2020-01-01"},
		{every: "year", start: "1995", err: "--every year: a numeric time column steps by a number of its units"},
		{every: "month", start: "1995.5", err: "--every month: a numeric time column"},
		{every: "month", start: "2020-02", err: "want YYYY-MM-DD"},
		{every: "fortnight", start: "2020-01-01", err: "--every fortnight"},
	}
	for _, tc := range tests {
		err := CheckPeriods(tc.every, tc.start)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("CheckPeriods(%q, %q) = %v; want nil", tc.every, tc.start, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("CheckPeriods(%q, %q) = %v; want an error containing %q", tc.every, tc.start, err, tc.err)
		}
	}
}
