package continuous

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/pipeline"
)

// periodColumn returns the column a backtest cuts periods on for the time
// column spec of x: the column itself, or, for a time column given in
// parts as train takes it ("Year,Month", "Year,Round"; see
// pipeline.TimeKey), a column built from the parts, missing where any
// part is. With a date start the parts are read as year, month and day
// (as as_of reads them), so periods are calendar months, quarters or
// years; with a number start the periods step by the first part
// (--every 1 --start 2005 puts all of a Year's rounds in one period).
// Either way a period is a run of the parts' lexicographic order, so the
// latest period is also the newest rows by the key train and retrain
// order rows by.
func periodColumn(x *frame.Frame, spec, start string) (*frame.Column, error) {
	names := strings.Split(spec, ",")
	if len(names) == 1 {
		c, ok := x.Lookup(spec)
		if !ok {
			return nil, fmt.Errorf("time column %q not found", spec)
		}
		return c, nil
	}
	key, err := pipeline.TimeKey(x, spec) // every part present and not text
	if err != nil {
		return nil, err
	}
	cols := make([]*frame.Column, len(names))
	for i, n := range names {
		cols[i], _ = x.Lookup(strings.TrimSpace(n))
	}
	if _, err := strconv.ParseFloat(start, 64); err == nil {
		first := cols[0]
		if first.Kind != frame.Numeric {
			return nil, fmt.Errorf("time columns %s: a number --start steps by the first, %q, which is a %s; give --start as a date", spec, first.Name, first.Kind)
		}
		v := make([]float64, len(key))
		for i := range v {
			v[i] = math.NaN()
			if !math.IsNaN(key[i]) {
				v[i] = first.Num[i]
			}
		}
		return frame.NewNumeric(spec, v), nil
	}
	return partsDate(spec, cols, key)
}

// partsDate returns the dates that numeric (year, month[, day]) parts
// spell, as a datetime column named spec; key is NaN where a part is
// missing. A part that is not a month or a day of that month is an
// error naming the row: such parts (a league's rounds) order rows but
// are no calendar.
func partsDate(spec string, cols []*frame.Column, key []float64) (*frame.Column, error) {
	const hint = "with a date --start the parts are read as year, month and day; give --start as a number to step by %q"
	if len(cols) > 3 {
		return nil, fmt.Errorf("time columns %s: "+hint, spec, cols[0].Name)
	}
	for _, c := range cols {
		if c.Kind != frame.Numeric {
			return nil, fmt.Errorf("time columns %s: %q is a %s: "+hint, spec, c.Name, c.Kind, cols[0].Name)
		}
	}
	secs := make([]float64, len(key))
	for i := range secs {
		if math.IsNaN(key[i]) {
			secs[i] = math.NaN()
			continue
		}
		ymd := [3]float64{0, 1, 1}
		for p, c := range cols {
			ymd[p] = c.Num[i]
		}
		t := time.Date(int(ymd[0]), time.Month(ymd[1]), int(ymd[2]), 0, 0, 0, 0, time.UTC)
		y, m, d := t.Date()
		if float64(y) != ymd[0] || float64(m) != ymd[1] || float64(d) != ymd[2] {
			return nil, fmt.Errorf("time columns %s: data row %d (%v) is not a date: "+hint, spec, i+1, ymd[:len(cols)], cols[0].Name)
		}
		secs[i] = float64(t.Unix())
	}
	return frame.NewDatetime(spec, secs), nil
}
