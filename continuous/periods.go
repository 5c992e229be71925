package continuous

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/tabforge/tabforge/frame"
)

// period is one step of a backtest: the rows whose time is in [lo, hi).
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
func periods(c *frame.Column, every, start string, limit int) (before, last []int, ps []period, err error) {
	if c.Kind != frame.Numeric && c.Kind != frame.Datetime {
		return nil, nil, nil, fmt.Errorf("time column %q is %s; want a datetime or a number", c.Name, c.Kind)
	}
	step, lo, label, err := stepper(c.Kind, every, start)
	if err != nil {
		return nil, nil, nil, err
	}
	prev := step(lo, -1)
	end := math.Inf(-1)
	for i, v := range c.Num {
		if math.IsNaN(v) {
			continue
		}
		end = max(end, v)
		if v < lo {
			before = append(before, i)
			if v >= prev {
				last = append(last, i)
			}
		}
	}
	if lo > end {
		return nil, nil, nil, fmt.Errorf("--start %s is after the last %s, %s", start, c.Name, label(end))
	}
	for lo <= end && (limit <= 0 || len(ps) < limit) {
		hi := step(lo, 1)
		p := period{label: label(lo), lo: lo, hi: hi}
		for i, v := range c.Num {
			if v >= lo && v < hi {
				p.rows = append(p.rows, i)
			}
		}
		if len(p.rows) > 0 {
			ps = append(ps, p)
		}
		lo = hi
	}
	return before, last, ps, nil
}

// stepper parses every and start for a column of kind k: the step from
// a period's start to the next (dir 1) or the previous one (dir -1), the
// first start, and how a start is written.
func stepper(k frame.Kind, every, start string) (step func(v float64, dir int) float64, lo float64, label func(float64) string, err error) {
	n, nerr := strconv.ParseFloat(every, 64)
	if nerr == nil && !(n > 0 && !math.IsInf(n, 1)) {
		return nil, 0, nil, fmt.Errorf("--every %s: want month, quarter, year or a positive number", every)
	}
	if k == frame.Numeric {
		if nerr != nil {
			return nil, 0, nil, fmt.Errorf("--every %s: a numeric time column steps by a number of its units", every)
		}
		if lo, err = strconv.ParseFloat(start, 64); err != nil || math.IsNaN(lo) {
			return nil, 0, nil, fmt.Errorf("--start %q: want a number for a numeric time column", start)
		}
		return func(v float64, dir int) float64 { return v + float64(dir)*n }, lo, func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }, nil
	}
	t, err := time.Parse(time.DateOnly, start)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("--start %q: want YYYY-MM-DD", start)
	}
	months := map[string]int{"month": 1, "quarter": 3, "year": 12}[every]
	if months == 0 && nerr != nil {
		return nil, 0, nil, fmt.Errorf("--every %s: want month, quarter, year or a number of days", every)
	}
	step = func(v float64, dir int) float64 {
		t := time.Unix(int64(v), 0).UTC()
		if months > 0 {
			return float64(t.AddDate(0, dir*months, 0).Unix())
		}
		return v + float64(dir)*n*86400
	}
	label = func(v float64) string { return time.Unix(int64(v), 0).UTC().Format(time.DateOnly) }
	return step, float64(t.Unix()), label, nil
}
