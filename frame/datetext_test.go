package frame

import "testing"

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
