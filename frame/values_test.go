package frame

import (
	"math"
	"strconv"
	"testing"
)

var smallInts = []string{"0", "-0", "+0", "7", "-7", "+12", "2010", "000123", "999999999999999", "-999999999999999",
	"1000000000000000", "1.5", "1e3", "", "-", "+", "--1", "1-", "0x10", "1_000", " 1", "١"}

// TestParseSmallInt checks the integer fast path against what
// strconv.ParseFloat returns, bit for bit (-0 included), and that it
// leaves alone what it cannot take exactly.
func TestParseSmallInt(t *testing.T) {
	for _, s := range smallInts {
		checkSmallInt(t, s)
	}
}

func FuzzParseSmallInt(f *testing.F) {
	for _, s := range smallInts {
		f.Add(s)
	}
	f.Fuzz(checkSmallInt)
}

func checkSmallInt(t *testing.T, s string) {
	v, ok := parseSmallInt(s)
	if !ok {
		return
	}
	want, err := strconv.ParseFloat(s, 64)
	if err != nil || math.Float64bits(v) != math.Float64bits(want) {
		t.Fatalf("parseSmallInt(%q) = %v; strconv.ParseFloat gives %v, %v", s, v, want, err)
	}
}
func TestNumberLabel(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0, "0"},
		{1, "1"},
		{-3, "-3"},
		{999999, "999999"},
		{1e6, "1000000"}, // %g: 1e+06
		{2000001, "2000001"},
		{-12345678, "-12345678"},
		{2.5, "2.5"},
		{1e21, "1e+21"}, // digits would run long
		{1.5e-7, "1.5e-07"},
	} {
		if got := NumberLabel(c.v); got != c.want {
			t.Errorf("NumberLabel(%v) = %q; want %q", c.v, got, c.want)
		}
	}
}
