package explain

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzParseRows feeds --rows lists to ParseRows: no panic, never more
// than maxRows rows, and a list it accepts agrees with a plain reference
// reading of the same grammar (N or A-B, comma separated, 0-based).
func FuzzParseRows(f *testing.F) {
	for _, s := range []string{"0,5,10-12", "3", "2-2", "", "1,,2", "-1", "5-3", "1-x", "0-16777216", "0-9,0-9", "007", "1-2-3", "+1", " 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseRows(s)
		want, ok := referenceRows(s)
		if err != nil {
			if ok && len(want) <= maxRows {
				t.Fatalf("ParseRows(%q) = %v; the reference reads %d rows", s, err, len(want))
			}
			return
		}
		if !ok || len(got) != len(want) {
			t.Fatalf("ParseRows(%q) = %d rows; the reference reads %d (ok %v)", s, len(got), len(want), ok)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("ParseRows(%q)[%d] = %d; want %d", s, i, got[i], want[i])
			}
		}
	})
}

// referenceRows reads s with strconv; it gives up (false) past maxRows+1
// rows, which ParseRows must refuse.
func referenceRows(s string) ([]int, bool) {
	var out []int
	for part := range strings.SplitSeq(s, ",") {
		a, b, isRange := strings.Cut(part, "-")
		lo, err1 := digits(a)
		hi, err2 := lo, error(nil)
		if isRange {
			hi, err2 = digits(b)
		}
		if err1 != nil || err2 != nil || hi < lo {
			return nil, false
		}
		for r := lo; r <= hi; r++ {
			if len(out) > maxRows {
				return out, true
			}
			out = append(out, r)
		}
	}
	return out, true
}

func digits(s string) (int, error) {
	if s == "" || len(s) > 12 || strings.Trim(s, "0123456789") != "" {
		return 0, strconv.ErrSyntax
	}
	return strconv.Atoi(s)
}
