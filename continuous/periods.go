package continuous

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/tabforge/tabforge/frame"
)

// period is one step of a backtest: the rows whose instant is in
// [lo, hi), labelled by the civil date it starts on.
type period struct {
	label  string
	lo, hi float64
	rows   []int
}

// periods cuts the time column c into consecutive periods of every
// ("month", "quarter", "year", or a positive number: days for a datetime
// column, the column's own units otherwise) from start (a date, or a
// number) until the data end; periods without rows are left out, and at
// most limit are returned (0: no limit). It also returns the rows before
// start. Rows without a time are in neither.
//
// The rows of the period just before start (by the same step) are
// returned too, as the first model's test rows.
//
// Datetimes are read in the civil time they were written in (see
// frame.Column.Local), as temporal features read them: monthly rows at
// 2020-01-01T00:00:00+02:00 are January's, although their instant is 31
// December in UTC, and labels are civil dates too. Each period starts
// at one instant, though, as as_of cuts: the earliest instant of a row
// written on or after its start date. With rows written in several UTC
// offsets, cutting each row by its own date let a model train on a row
// (21:00-05:00 on the last day of a month) hours later than rows it was
// then tested on (00:00+02:00 on the 1st), and the latest period was not
// the newest rows that retrain holds out.
//
// Each row's period is computed, not searched for, so a step that is
// small for the column's range (--every 1 over epoch seconds) costs
// nothing for the periods without rows.
func periods(c *frame.Column, every, start string, limit int) (before, last []int, ps []period, err error) {
	if c.Kind != frame.Numeric && c.Kind != frame.Datetime {
		return nil, nil, nil, fmt.Errorf("time column %q is %s; want a datetime or a number", c.Name, c.Kind)
	}
	st, err := stepper(c.Kind, every, start)
	if err != nil {
		return nil, nil, nil, err
	}
	byDate, end, err := civilPeriods(c, st, every, start)
	if err != nil {
		return nil, nil, nil, err
	}
	if st.bound(0) > end {
		return nil, nil, nil, fmt.Errorf("--start %s is after the last %s, %s", start, c.Name, st.label(end))
	}
	// ks are the civil periods with rows (olderPeriods and lastPeriod
	// before start); first[j] is the earliest instant written in ks[j]
	// or later, where period ks[j] starts.
	ks := slices.Sorted(maps.Keys(byDate))
	first := make([]float64, len(ks))
	m := math.Inf(1)
	for j := len(ks) - 1; j >= 0; j-- {
		for _, i := range byDate[ks[j]] {
			m = min(m, c.Num[i])
		}
		first[j] = m
	}
	byInstant := map[int][]int{}
	for i, u := range c.Num {
		if math.IsNaN(c.Local(i)) {
			continue
		}
		// The last period starting at or before u; its own civil
		// period's start is one, so there is one.
		j, found := slices.BinarySearch(first, u)
		for found && j+1 < len(first) && first[j+1] == u {
			j++
		}
		if !found {
			j--
		}
		byInstant[ks[j]] = append(byInstant[ks[j]], i)
	}
	for j, k := range ks {
		rows := byInstant[k]
		switch {
		case len(rows) == 0:
		case k == olderPeriods:
			before = append(before, rows...)
		case k == lastPeriod:
			before, last = append(before, rows...), rows
		case limit <= 0 || len(ps) < limit:
			hi := math.Inf(1)
			if j+1 < len(ks) {
				hi = first[j+1]
			}
			ps = append(ps, period{label: st.label(st.bound(k)), lo: first[j], hi: hi, rows: rows})
		}
	}
	slices.Sort(before)
	return before, last, ps, nil
}

// Civil periods before start: the one just before it, and all older.
const (
	olderPeriods = -2
	lastPeriod   = -1
)

// civilPeriods groups the rows of c with a time by the period their
// civil time is in (olderPeriods and lastPeriod before start), and
// returns the latest civil time.
func civilPeriods(c *frame.Column, st steps, every, start string) (map[int][]int, float64, error) {
	lo, prev := st.bound(0), st.bound(-1)
	end := math.Inf(-1)
	byDate := map[int][]int{}
	for i := range c.Num {
		v := c.Local(i)
		if math.IsNaN(v) {
			continue
		}
		end = max(end, v)
		k := olderPeriods
		switch {
		case v >= lo:
			var ok bool
			if k, ok = st.index(v); !ok {
				return nil, 0, fmt.Errorf("--every %s is too short for %s %s: too many periods after --start %s; use a longer period", every, c.Name, st.label(v), start)
			}
		case v >= prev:
			k = lastPeriod
		}
		byDate[k] = append(byDate[k], i)
	}
	return byDate, end, nil
}

// rowsBefore returns the rows of the time column c before lo, a period's
// starting instant; missing times are left out.
func rowsBefore(c *frame.Column, lo float64) []int {
	var rows []int
	for i, u := range c.Num {
		if u < lo {
			rows = append(rows, i)
		}
	}
	return rows
}

// maxPeriods bounds a row's period index, so that it fits an int and a
// float64 step from the start still moves.
const maxPeriods = 1 << 40

// steps are a backtest's periods: bound(k) is the start of the k-th
// (k = 0 at --start, -1 the one before), label writes a time.
type steps struct {
	bound func(k int) float64
	label func(float64) string
	// guess is close to the index of v's period; index corrects it.
	guess func(v float64) float64
}

// index returns the k with bound(k) <= v < bound(k+1), or false when k
// would be beyond maxPeriods or the step is too short to move v's bounds
// (a float64 step far below v's precision).
func (s steps) index(v float64) (int, bool) {
	g := math.Floor(s.guess(v))
	if !(g >= 0 && g < maxPeriods) {
		return 0, false
	}
	k := int(g)
	// The guess is off by one at most where floating point rounds a
	// bound; more means the bounds do not move.
	for range 3 {
		switch {
		case k > 0 && v < s.bound(k):
			k--
		case v >= s.bound(k+1):
			k++
		default:
			return k, s.bound(k) < s.bound(k+1)
		}
	}
	return 0, false
}

// CheckPeriods reports an every or start that no time column could use
// (--every fortnight, --start 2024-13-01): a caller can refuse them
// before reading the data. Whether they suit the time column's kind (a
// number of units for a numeric column) is checked when it is read.
func CheckPeriods(every, start string) error {
	_, err := stepper(frame.Datetime, every, start)
	if err == nil {
		return nil
	}
	_, nerr := stepper(frame.Numeric, every, start)
	if nerr == nil {
		return nil
	}
	if _, perr := strconv.ParseFloat(start, 64); perr == nil {
		// A numeric --start means a numeric time column (years held as
		// numbers, say): "want YYYY-MM-DD" would blame the start, when
		// the named period is what such a column cannot take.
		return nerr
	}
	return err
}

// stepper parses every and start for a column of kind k. Months are
// counted from start, each period's start on start's day of the month or
// that month's last day (periods from January 31 start on February 28
// or 29, then March 31), as a calendar does: stepping from the previous
// period's start (AddDate) rolled January 31 over to March 2 or 3 and
// left every later period starting on the 2nd or 3rd.
func stepper(k frame.Kind, every, start string) (steps, error) {
	n, nerr := strconv.ParseFloat(every, 64)
	if nerr == nil && !(n > 0 && !math.IsInf(n, 1)) {
		return steps{}, fmt.Errorf("--every %s: want month, quarter, year or a positive number", every)
	}
	if k == frame.Numeric {
		if nerr != nil {
			return steps{}, fmt.Errorf("--every %s: a numeric time column steps by a number of its units (--every 1 steps by one: a year when it holds years)", every)
		}
		lo, err := strconv.ParseFloat(start, 64)
		if err != nil || math.IsNaN(lo) {
			return steps{}, fmt.Errorf("--start %q: want a number for a numeric time column", start)
		}
		return fixedSteps(lo, n, func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }), nil
	}
	t, err := time.Parse(time.DateOnly, start)
	if err != nil {
		return steps{}, fmt.Errorf("--start %q: want YYYY-MM-DD", start)
	}
	label := func(v float64) string { return time.Unix(int64(v), 0).UTC().Format(time.DateOnly) }
	months := map[string]int{"month": 1, "quarter": 3, "year": 12}[every]
	if months == 0 {
		if nerr != nil {
			return steps{}, fmt.Errorf("--every %s: want month, quarter, year or a number of days", every)
		}
		return fixedSteps(float64(t.Unix()), n*86400, label), nil
	}
	y0, m0, _ := t.Date()
	return steps{
		bound: func(k int) float64 { return float64(addMonths(t, k*months).Unix()) },
		label: label,
		guess: func(v float64) float64 {
			y, m, _ := time.Unix(int64(v), 0).UTC().Date()
			return float64((y-y0)*12+int(m-m0)) / float64(months)
		},
	}, nil
}

// fixedSteps are periods of n units from lo.
func fixedSteps(lo, n float64, label func(float64) string) steps {
	return steps{
		bound: func(k int) float64 { return lo + float64(k)*n },
		label: label,
		guess: func(v float64) float64 { return (v - lo) / n },
	}
}

// addMonths adds m months to t, keeping t's day of the month or, when
// the month is shorter, taking its last day.
func addMonths(t time.Time, m int) time.Time {
	y, mo, d := t.Date()
	first := time.Date(y, mo+time.Month(m), 1, t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
	return first.AddDate(0, 0, min(d, first.AddDate(0, 1, -1).Day())-1)
}
