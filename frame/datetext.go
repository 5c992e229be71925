package frame

import (
	"fmt"
	"strconv"
	"strings"
)

// A DateText is a column read as categorical although every one of its
// values is a calendar date written with numbers, in an order other than
// ISO 8601's (31.12.1999, 12/31/1999, 31-12-1999, with or without a time
// of day). Whether 01/02/2020 is January or February depends on a locale
// the file does not name, so the readers keep such text as labels rather
// than guess; a DateText lets the caller say so, since a model then
// learns each date as an unordered category: no calendar features, no
// time order, and a level new rows never match.
type DateText struct {
	Column  string `json:"column"`
	Example string `json:"example"` // a value that did not read as a date
}

// String says what the reader did and what the user can do about it.
func (d DateText) String() string {
	return fmt.Sprintf("column %q was read as categorical: its values are dates written like %q, which are not read as dates "+
		"(ISO 8601 is: 1999-12-31, 1999-12-31T08:30:00Z); to use them as dates (calendar features, --time-column), write them as ISO 8601; "+
		"to keep them as categories and silence this warning, set the column's kind to categorical in the schema",
		d.Column, d.Example)
}

// DateTexts returns the categorical columns of f, read from text with
// opts, whose every level is a date numericDate recognises, in column
// order. Columns whose kind opts.Schema sets are left out, as
// NumberTexts leaves them.
func DateTexts(f *Frame, opts ReadOptions) []DateText {
	var out []DateText
	for _, c := range f.cols {
		if c.Kind != Categorical || len(c.Levels) == 0 {
			continue
		}
		if _, forced := opts.Schema[c.Name]; forced {
			continue
		}
		all := true
		for _, l := range c.Levels {
			if !numericDate(l) {
				all = false
				break
			}
		}
		if all {
			out = append(out, DateText{Column: c.Name, Example: c.Levels[0]})
		}
	}
	return out
}

// numericDate reports whether s is day, month and a four-digit year in
// some order, separated by one of . / -, optionally followed by a space
// and a time of day: the year first or last, the other two fields a day
// (1–31) and a month (1–12) in either order.
func numericDate(s string) bool {
	date, clock, _ := strings.Cut(strings.TrimSpace(s), " ")
	if clock != "" && !timeOfDay(clock) {
		return false
	}
	sep := strings.IndexAny(date, "./-")
	if sep < 0 {
		return false
	}
	parts := strings.Split(date, date[sep:sep+1])
	if len(parts) != 3 {
		return false
	}
	n := make([]int, 3)
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || p == "" || p[0] == '+' || p[0] == '-' {
			return false
		}
		n[i] = v
	}
	year := func(i int) bool { return len(parts[i]) == 4 && n[i] >= 1000 }
	dayMonth := func(a, b int) bool {
		inDay := func(v int) bool { return v >= 1 && v <= 31 && len(parts[a]) <= 2 && len(parts[b]) <= 2 }
		return inDay(n[a]) && inDay(n[b]) && (n[a] <= 12 || n[b] <= 12)
	}
	return (year(2) && dayMonth(0, 1)) || (year(0) && dayMonth(1, 2))
}

// timeOfDay reports whether s is HH:MM or HH:MM:SS (seconds may carry a
// fraction).
func timeOfDay(s string) bool {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return false
	}
	for i, p := range parts {
		if i == 2 {
			p, _, _ = strings.Cut(p, ".")
		}
		if len(p) == 0 || len(p) > 2 {
			return false
		}
		if _, err := strconv.Atoi(p); err != nil || p[0] == '+' || p[0] == '-' {
			return false
		}
	}
	return true
}
