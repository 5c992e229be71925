package frame

import (
	"strconv"
	"strings"
	"testing"
)

func TestNumericDate(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"31.12.1999", true},
		{"12/31/1999", true},
		{"1/2/2020", true},
		{"31-12-1999", true},
		{"1999.12.31", true},
		{"1999/12/31", true},
		{"31.12.1999 08:30", true},
		{"31.12.1999 08:30:15.5", true},
		{"1.2.3", false},      // a version
		{"10.0.0.1", false},   // an address
		{"31.31.1999", false}, // no month
		{"32.12.1999", false}, // no day
		{"31.12.99", false},   // a two-digit year is not told from a day
		{"31.12/1999", false}, // two separators
		{"31.12.1999 late", false},
		{"0999.12.31", false},
		{"+1.2.2020", false},
		{"2020-01-02", true}, // ISO: the data layer reads such a column, so it is never categorical
		{"", false},
		{"yes", false},
	} {
		if got := numericDate(tc.s); got != tc.want {
			t.Errorf("numericDate(%q) = %v; want %v", tc.s, got, tc.want)
		}
	}
}

// FuzzNumericDate: any text is judged without a panic, and a text judged
// a date has three fields, one a four-digit year and two at most 31, one
// of those at most 12.
func FuzzNumericDate(f *testing.F) {
	for _, s := range []string{"31.12.1999", "1999/12/31 08:30", "1/2/2020", "1.2.3", "", "31.12.1999 8:3:4.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !numericDate(s) {
			return
		}
		date, _, _ := strings.Cut(strings.TrimSpace(s), " ")
		parts := strings.FieldsFunc(date, func(r rune) bool { return r == '.' || r == '/' || r == '-' })
		if len(parts) != 3 {
			t.Fatalf("numericDate(%q) with fields %q", s, parts)
		}
		n := make([]int, 3)
		for i, p := range parts {
			v, err := strconv.Atoi(p)
			if err != nil {
				t.Fatalf("numericDate(%q): field %q is not a number", s, p)
			}
			n[i] = v
		}
		y, a, b := 2, 0, 1
		if len(parts[0]) == 4 {
			y, a, b = 0, 1, 2
		}
		if len(parts[y]) != 4 || n[y] < 1000 || n[a] < 1 || n[a] > 31 || n[b] < 1 || n[b] > 31 || min(n[a], n[b]) > 12 {
			t.Fatalf("numericDate(%q) with fields %v", s, n)
		}
	})
}
