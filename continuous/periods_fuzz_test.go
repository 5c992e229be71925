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
// its bounds (instants, so that with rows written in several UTC offsets,
// zones, no training row is later than a row it is tested on), the
// periods in order; rows before --start in before, the ones in the
// period just before it also in last.
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
	f.Add("month", "2020-01-31", true, dates, uint8(0), uint64(0))
	f.Add("month", "2020-02-01", true, dates, uint8(0), uint64(0x0f0f0))
	f.Add("quarter", "2019-11-30", true, dates, uint8(2), uint64(0))
	f.Add("year", "2020-01-01", true, dates, uint8(0), uint64(0x12345))
	f.Add("10", "2020-02-01", true, dates, uint8(0), uint64(0))
	f.Add("0.5", "0", false, dates, uint8(0), uint64(0))
	f.Add("1", "1e17", false, join(dates, dates), uint8(0), uint64(0))
	f.Add("1e-300", "-1e300", false, dates, uint8(1), uint64(0))
	f.Add("month", "9999-12-31", true, dates, uint8(0), uint64(0))
	f.Fuzz(func(t *testing.T, every, start string, datetime bool, raw []byte, limit uint8, zones uint64) {
		vals := make([]float64, 0, min(len(raw)/8, 64))
		for i := 0; i+8 <= len(raw) && len(vals) < 64; i += 8 {
			vals = append(vals, math.Float64frombits(binary.LittleEndian.Uint64(raw[i:])))
		}
		c := frame.NewNumeric("t", vals)
		if datetime {
			// Offsets from -7 to +8 hours, four bits a row.
			offs := make([]int32, len(vals))
			for i := range offs {
				offs[i] = 3600 * (int32(zones>>(4*(i%16))&0xf) - 7)
			}
			c = frame.NewDatetimeOffsets("t", vals, offs)
		}
		before, last, ps, err := periods(c, every, start, int(limit%4))
		if err != nil {
			return
		}
		st, err := stepper(c.Kind, every, start)
		if err != nil {
			t.Fatalf("periods accepted --every %q --start %q; stepper: %v", every, start, err)
		}
		checkPeriods(t, c, st, before, last, ps, limit%4 == 0)
	})
}

// checkPeriods fails unless before, last and ps hold c's rows as
// FuzzPeriods says; complete is whether every row is in one of them.
func checkPeriods(t *testing.T, c *frame.Column, st steps, before, last []int, ps []period, complete bool) {
	t.Helper()
	lo, prev := st.bound(0), st.bound(-1)
	// The period before start begins at the earliest instant written on
	// or after its start.
	lastLo := math.Inf(1)
	for i := range c.Num {
		if c.Local(i) >= prev {
			lastLo = min(lastLo, c.Num[i])
		}
	}
	where := make([]int, len(c.Num)) // 0 unseen, 1 before, 2 in a period
	for _, i := range before {
		if !(c.Local(i) < lo) || where[i] != 0 || len(ps) > 0 && !(c.Num[i] < ps[0].lo) {
			t.Fatalf("row %d (%v, written %v) is before --start (%v) twice, or not before it or the first period", i, c.Num[i], c.Local(i), lo)
		}
		where[i]++
	}
	for _, i := range last {
		if where[i] != 1 || !(c.Num[i] >= lastLo) {
			t.Fatalf("row %d (%v) is in last but not in before, or before the last period's start %v", i, c.Num[i], lastLo)
		}
	}
	for k, p := range ps {
		if !(p.lo < p.hi) || k > 0 && ps[k-1].hi > p.lo || p.label == "" || len(p.rows) == 0 {
			t.Fatalf("period %d [%v, %v) %q with %d rows: bounds out of order, no label or no rows", k, p.lo, p.hi, p.label, len(p.rows))
		}
		for _, i := range p.rows {
			if u := c.Num[i]; !(p.lo <= u && u < p.hi) || where[i] != 0 {
				t.Fatalf("row %d (%v) in period %q [%v, %v), or in another too", i, u, p.label, p.lo, p.hi)
			}
			where[i] = 2
		}
	}
	for i, u := range c.Num {
		if !math.IsNaN(u) && where[i] == 0 && complete {
			t.Fatalf("row %d (%v) is in no period and not before --start", i, u)
		}
	}
}
