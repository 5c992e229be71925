package drift

import (
	"context"
	"encoding/binary"
	"math"
	"testing"

	"github.com/tabforge/tabforge/frame"
)

// FuzzCompare feeds arbitrary numbers (NaN, ±Inf, ties, denormals) and
// categories to Compare: it must not panic, and every statistic, p-value,
// PSI and share must be a finite number in range.
func FuzzCompare(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, []byte{9, 9, 9, 9, 0xff, 0xf0, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 1, 2}, uint16(3))
	f.Add(make([]byte, 64), make([]byte, 8), uint16(2000))
	huge := binary.LittleEndian.AppendUint64(nil, math.Float64bits(1.7e308))
	huge = binary.LittleEndian.AppendUint64(huge, math.Float64bits(-1.7e308))
	for i := range 6 {
		huge = binary.LittleEndian.AppendUint64(huge, math.Float64bits(float64(i)))
	}
	f.Add(huge, huge[8:], uint16(1))
	f.Fuzz(func(t *testing.T, a, b []byte, testRows uint16) {
		ref, cur := fuzzFrame(a), fuzzFrame(b)
		if ref == nil || cur == nil {
			return
		}
		r, err := Compare(context.Background(), ref, cur, Options{TestRows: int(testRows), Target: "c"})
		if err != nil {
			t.Fatal(err)
		}
		if r.DriftedShare < 0 || r.DriftedShare > 1 || r.Drifted > r.Compared {
			t.Errorf("share %v, %d of %d", r.DriftedShare, r.Drifted, r.Compared)
		}
		for _, c := range append(r.Columns, *r.Target) {
			if !finite(c.Statistic) || c.Statistic < 0 || !finite(c.PSI) || c.PSI < 0 {
				t.Errorf("%s: statistic %v, PSI %v", c.Name, c.Statistic, c.PSI)
			}
			if c.PValue != nil && !(*c.PValue >= 0 && *c.PValue <= 1) {
				t.Errorf("%s: p-value %v", c.Name, *c.PValue)
			}
			for _, bin := range c.Bins {
				if !finite(bin.Reference) || !finite(bin.Current) {
					t.Errorf("%s: bin %+v", c.Name, bin)
				}
			}
		}
	})
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// fuzzFrame reads 8 bytes a row: a float64 column "x" and a category
// "c" from the first byte; nil when there is no whole row.
func fuzzFrame(data []byte) *frame.Frame {
	n := len(data) / 8
	if n == 0 {
		return nil
	}
	x := make([]float64, n)
	cs := make([]string, n)
	for i := range n {
		x[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
		cs[i] = string(rune('a' + data[8*i]%5))
		if data[8*i]%7 == 0 {
			cs[i] = ""
		}
	}
	return frame.MustNew(frame.NewNumeric("x", x), frame.NewCategoricalFromStrings("c", cs))
}
