package features

import (
	"fmt"
	"math"
	"slices"

	"github.com/tabforge/tabforge/frame"
)

// detectTimeSource decides how the time columns are read and the unit of
// their ordinal, from the training rows.
func detectTimeSource(train *frame.Frame, names []string) (source, unit string, err error) {
	cols := make([]*frame.Column, len(names))
	for i, n := range names {
		c, ok := train.Lookup(n)
		if !ok {
			return "", "", &MissingColumnError{Column: n}
		}
		cols[i] = c
	}
	if len(cols) == 2 {
		for _, c := range cols {
			if c.Kind != frame.Numeric {
				return "", "", &ColumnError{Column: c.Name, Err: fmt.Errorf("%w: %s, want numeric (year,month)", ErrWrongKind, c.Kind)}
			}
		}
		return sourceYearMonth, unitMonth, nil
	}
	c := cols[0]
	switch c.Kind {
	case frame.Numeric:
		return sourceNumeric, unitValue, nil
	case frame.Datetime:
		// Read in civil time: monthly data written at midnight in a zone
		// east of UTC fall on the last evening of the month before in UTC.
		unit, err := datetimeUnit(civilSeconds(c, false))
		if err != nil {
			return "", "", &ColumnError{Column: c.Name, Err: err}
		}
		return sourceDatetime, unit, nil
	}
	return "", "", &ColumnError{Column: c.Name, Err: fmt.Errorf("%w: %s, want datetime or numeric", ErrWrongKind, c.Kind)}
}

// datetimeUnit returns the ordinal unit of civil times (Unix seconds of
// the wall clock): months when they are monthly (see monthly); instants
// for data recorded within days (see withinDays); else days. Strays then
// fall in their month or day.
func datetimeUnit(secs []float64) (string, error) {
	m, err := monthly(secs)
	switch {
	case err != nil:
		return "", err
	case m:
		return unitMonth, nil
	case withinDays(secs):
		return unitInstant, nil
	}
	return unitDay, nil
}

// monthly reports whether civil times (Unix seconds of the wall clock)
// are monthly: all distinct times but a few strays (see fewStrays; or up
// to movedStrays percent, each the only time in its month, as a month's
// record dated mid-month) are midnight on the first day of their month, or
// all but a few midnight on the last. It is the one rule of what is monthly, for Temporal's month
// unit and the design's datetime parts. No times are monthly.
func monthly(secs []float64) (bool, error) {
	seen := make(map[float64]bool)
	perMonth := make(map[int64]int) // distinct times in each month
	var notFirst, notLast []int64   // the months of the strays
	for _, v := range secs {
		if math.IsNaN(v) || seen[v] {
			continue
		}
		seen[v] = true
		y, m, d, _, ok := civil(v)
		if !ok {
			return false, fmt.Errorf("datetime %g out of range", v)
		}
		month := 12*y + m
		perMonth[month]++
		midnight := math.Mod(v, 86400) == 0
		if !midnight || d != 1 {
			notFirst = append(notFirst, month)
		}
		if !midnight || d != daysInMonth(y, m) {
			notLast = append(notLast, month)
		}
	}
	monthlyBy := func(strays []int64) bool {
		n := len(seen)
		if fewStrays(len(strays), n) {
			return true
		}
		return len(strays)*100 <= movedStrays*n && !slices.ContainsFunc(strays, func(m int64) bool { return perMonth[m] > 1 })
	}
	return monthlyBy(notFirst) || monthlyBy(notLast), nil
}

// withinDays reports whether civil times (Unix seconds of the wall clock)
// are recorded within days: more dates than a few strays (see fewStrays)
// hold two distinct times, as hourly data do. Their order is that of
// their instants, since a wall clock repeats an hour when it falls back
// and skips one when it springs forward. One date with a second record in
// daily data is a stray, and the data stay daily.
func withinDays(civil []float64) bool {
	first := make(map[float64]float64) // date → a time on it
	shared := make(map[float64]bool)   // dates with two distinct times
	for _, v := range civil {
		if math.IsNaN(v) {
			continue
		}
		day := math.Floor(v / 86400)
		if w, ok := first[day]; !ok {
			first[day] = v
		} else if w != v {
			shared[day] = true
		}
	}
	return !fewStrays(len(shared), len(first))
}

// civilSeconds returns the datetimes of c as civil time (see
// frame.Column.Local), or as UTC when utc is set, for states saved before
// offsets were kept. It returns c.Num itself when the two agree.
func civilSeconds(c *frame.Column, utc bool) []float64 {
	if utc || c.Offsets == nil {
		return c.Num
	}
	out := make([]float64, len(c.Num))
	for i := range out {
		out[i] = c.Local(i)
	}
	return out
}

// timeValues are the time of each row: its ordinal (NaN if missing) and,
// for calendar sources, its civil date (day 0 when only year and month are
// known).
type timeValues struct {
	ord                    []float64
	year, month, day, wday []int64
}

// readTime reads the time of every row of x.
func (ft *FittedTemporal) readTime(x *frame.Frame) (*timeValues, error) {
	names := ft.settings.timeColumns()
	cols := make([]*frame.Column, len(names))
	for i, n := range names {
		c, ok := x.Lookup(n)
		if !ok {
			return nil, &MissingColumnError{Column: n}
		}
		want := frame.Numeric
		if ft.source == sourceDatetime {
			want = frame.Datetime
		}
		if c.Kind != want {
			return nil, &ColumnError{Column: n, Err: fmt.Errorf("%w: %s, want %s", ErrWrongKind, c.Kind, want)}
		}
		cols[i] = c
	}
	n := x.NumRows()
	tv := &timeValues{ord: make([]float64, n)}
	if ft.source == sourceNumeric {
		copy(tv.ord, cols[0].Num)
		for i, v := range tv.ord {
			if math.IsInf(v, 0) {
				tv.ord[i] = math.NaN()
			}
		}
		return tv, nil
	}
	tv.year, tv.month, tv.day, tv.wday = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	var secs []float64
	if ft.source == sourceDatetime {
		secs = civilSeconds(cols[0], ft.utc)
	}
	for i := range n {
		tv.ord[i] = math.NaN()
		var y, m, d, wd int64
		var ok bool
		if ft.source == sourceDatetime {
			v := secs[i]
			if y, m, d, wd, ok = civil(v); !ok {
				continue
			}
			switch ft.unit {
			case unitDay:
				tv.ord[i] = v / 86400
			case unitInstant:
				tv.ord[i] = cols[0].Num[i] / 86400
			}
		} else {
			yv, mv := cols[0].Num[i], cols[1].Num[i]
			if !(math.Abs(yv) < 1e6) || !(mv >= 1 && mv <= 12) || yv != math.Trunc(yv) || mv != math.Trunc(mv) {
				continue
			}
			y, m = int64(yv), int64(mv)
			ok = true
		}
		tv.year[i], tv.month[i], tv.day[i], tv.wday[i] = y, m, d, wd
		if ft.unit == unitMonth {
			tv.ord[i] = float64(12*y + m - 1)
		}
	}
	return tv, nil
}

// chooseParts returns the calendar parts for the source and unit that are
// not constant on the training rows.
func (ft *FittedTemporal) chooseParts(tv *timeValues) []string {
	var candidates []string
	switch ft.unit {
	case unitMonth:
		candidates = monthlyParts
	case unitDay, unitInstant:
		candidates = calendarParts
	}
	var out []string
	for _, p := range candidates {
		first, varies := math.NaN(), false
		for i, o := range tv.ord {
			if math.IsNaN(o) {
				continue
			}
			v := calendarValue(p, tv, i)
			if math.IsNaN(first) {
				first = v
			} else if v != first {
				varies = true
				break
			}
		}
		if varies {
			out = append(out, p)
		}
	}
	return out
}

// calendarValue returns part p of row i.
func calendarValue(p string, tv *timeValues, i int) float64 {
	y, m, d, wd := tv.year[i], tv.month[i], tv.day[i], tv.wday[i]
	switch p {
	case "year":
		return float64(y)
	case "quarter":
		return float64((m-1)/3 + 1)
	case "month":
		return float64(m)
	case "week":
		return float64(isoWeek(y, m, d, wd))
	case "dow":
		return float64(wd)
	case "doy":
		return float64(dayOfYear(y, m, d))
	case "month_end":
		return flag(d == daysInMonth(y, m))
	case "quarter_end":
		return flag(d == daysInMonth(y, m) && m%3 == 0)
	case "month_sin":
		return math.Sin(2 * math.Pi * float64(m-1) / 12)
	case "month_cos":
		return math.Cos(2 * math.Pi * float64(m-1) / 12)
	case "dow_sin":
		return math.Sin(2 * math.Pi * float64(wd) / 7)
	case "dow_cos":
		return math.Cos(2 * math.Pi * float64(wd) / 7)
	}
	panic("features: unknown calendar part " + p)
}

func flag(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (Hinnant's days-from-civil algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func daysInMonth(y, m int64) int64 {
	if m == 12 {
		return 31
	}
	return daysFromCivil(y, m+1, 1) - daysFromCivil(y, m, 1)
}

func dayOfYear(y, m, d int64) int64 { return daysFromCivil(y, m, d) - daysFromCivil(y, 1, 1) + 1 }

// isoWeek returns the ISO 8601 week number of a date whose weekday is wd
// (Monday = 0).
func isoWeek(y, m, d, wd int64) int64 {
	w := (dayOfYear(y, m, d) - (wd + 1) + 10) / 7
	switch {
	case w < 1:
		return isoWeeksIn(y - 1)
	case w > isoWeeksIn(y):
		return 1
	}
	return w
}

// isoWeeksIn returns 52 or 53, the number of ISO weeks of year y.
func isoWeeksIn(y int64) int64 {
	p := func(y int64) int64 { return ((y+floorDiv(y, 4)-floorDiv(y, 100)+floorDiv(y, 400))%7 + 7) % 7 }
	if p(y) == 4 || p(y-1) == 3 {
		return 53
	}
	return 52
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
