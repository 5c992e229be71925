package continuous

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/tabforge/tabforge/frame"
)

// FuzzPeriods feeds --every, --start and a time column to periods: it
// must return periods or an error, never panic or hang, and the periods
// it returns must hold their rows: each row in exactly one period, inside
// its bounds, the periods in order; rows before --start in before, the
// ones in the period just before it also in last.
func FuzzPeriods(f *testing.F) {
	day := func(s string) []byte {
		b := make([]byte, 0, 8)
		v, _ := frame.ParseDatetime(s)
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	join := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	dates := join(day("2020-01-15"), day("2020-02-01"), day("2020-02-29"), day("2020-07-01"), day("2019-12-31"))
	f.Add("month", "2020-01-31", true, dates, uint8(0))
	f.Add("quarter", "2019-11-30", true, dates, uint8(2))
	f.Add("year", "2020-01-01", true, dates, uint8(0))
	f.Add("10", "2020-02-01", true, dates, uint8(0))
	f.Add("0.5", "0", false, dates, uint8(0))
	f.Add("1", "1e17", false, join(dates, dates), uint8(0))
	f.Add("1e-300", "-1e300", false, dates, uint8(1))
	f.Add("month", "9999-12-31", true, dates, uint8(0))
	f.Fuzz(func(t *testing.T, every, start string, datetime bool, raw []byte, limit uint8) {
		vals := make([]float64, 0, min(len(raw)/8, 64))
		for i := 0; i+8 <= len(raw) && len(vals) < 64; i += 8 {
			vals = append(vals, math.Float64frombits(binary.LittleEndian.Uint64(raw[i:])))
		}
		c := frame.NewNumeric("t", vals)
		if datetime {
			c = frame.NewDatetime("t", vals)
		}
		before, last, ps, err := periods(c, every, start, int(limit%4))
		if err != nil {
			return
		}
		st, err := stepper(c.Kind, every, start)
		if err != nil {
			t.Fatalf("periods accepted --every %q --start %q; stepper: %v", every, start, err)
		}
		lo, prev := st.bound(0), st.bound(-1)
		where := make([]int, len(vals)) // 0 unseen, 1 before, 2 in a period
		for _, i := range before {
			if !(c.Local(i) < lo) || where[i] != 0 {
				t.Fatalf("row %d (%v) is before --start %s (%v) twice or not before it", i, c.Local(i), start, lo)
			}
			where[i]++
		}
		for _, i := range last {
			if where[i] != 1 || !(c.Local(i) >= prev) {
				t.Fatalf("row %d (%v) is in last but not in before, or before the last period's start %v", i, c.Local(i), prev)
			}
		}
		for k, p := range ps {
			if !(p.lo < p.hi) || k > 0 && ps[k-1].hi > p.lo || p.label == "" || len(p.rows) == 0 {
				t.Fatalf("period %d [%v, %v) %q with %d rows: bounds out of order, no label or no rows", k, p.lo, p.hi, p.label, len(p.rows))
			}
			for _, i := range p.rows {
				if v := c.Local(i); !(p.lo <= v && v < p.hi) {
					t.Fatalf("row %d (%v) in period %q [%v, %v)", i, v, p.label, p.lo, p.hi)
				}
				if v := c.Local(i); where[i] != 0 || v < lo {
					t.Fatalf("row %d (%v) is in period %q and before --start or in another", i, v, p.label)
				}
				where[i] = 2
			}
		}
		for i, v := range vals {
			if !math.IsNaN(c.Local(i)) && where[i] == 0 && limit%4 == 0 {
				t.Fatalf("row %d (%v) is in no period and not before --start %s", i, v, start)
			}
		}
	})
}
