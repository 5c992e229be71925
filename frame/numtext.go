package frame

import "fmt"

// A NumberText is a column read as categorical although every one of its
// values is a number: some are written with digit grouping ("1,000",
// "12,345.6", "1.234.567,8", "1 000") or a decimal comma ("1,5"), which
// the readers do not parse as numbers. Which of "1,000" and "1,5" means
// what depends on a locale the file does not name, so the readers keep
// such text as labels rather than guess; a NumberText lets the caller say
// so, since a model then learns the amounts as unordered categories.
type NumberText struct {
	Column  string `json:"column"`
	Example string `json:"example"` // a value that did not read as a number
}

// String says what the reader did and what the user can do about it.
func (n NumberText) String() string {
	return fmt.Sprintf("column %q was read as categorical: its values are numbers written with digit grouping or a decimal comma (e.g. %q), which are not read as numbers; "+
		"to use them as numbers, write them without grouping and with a decimal point (1234.5); to keep them as categories and silence this warning, set the column's kind to categorical in the schema",
		n.Column, n.Example)
}

// NumberTexts returns the categorical columns of f, read from text (CSV
// or rows) with opts, whose values are all numbers and some written with
// digit grouping or a decimal comma, in column order. Columns whose kind
// opts.Schema sets are left out: their kind is the user's choice, not an
// inference. It looks at each column's levels only, stopping at the
// first level that is not a number.
func NumberTexts(f *Frame, opts ReadOptions) []NumberText {
	var out []NumberText
	for _, c := range f.cols {
		if c.Kind != Categorical {
			continue
		}
		if _, forced := opts.Schema[c.Name]; forced {
			continue
		}
		example, ok := "", len(c.Levels) > 0
		for _, l := range c.Levels {
			if separatedNumber(l) {
				if example == "" {
					example = l
				}
				continue
			}
			if _, res := parseNumber(l); res != finiteNumber {
				ok = false
				break
			}
		}
		if ok && example != "" {
			out = append(out, NumberText{Column: c.Name, Example: example})
		}
	}
	return out
}

// separatedNumber reports whether s, after an optional sign, is a decimal
// number with digit grouping: 1 to 3 digits, then groups of exactly 3
// digits each after the same separator (a comma, point, space or
// apostrophe), then optionally a decimal mark (a point or comma other
// than the separator) and digits; or else digits, a decimal comma and
// digits ("1,5"). "1.000" counts too, though it also parses as 1: a
// column mixing "1.000" and "2.500,5" is grouped throughout.
func separatedNumber(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	lead := digits(s)
	if lead == 0 {
		return false
	}
	i, groups, sep := lead, 0, byte(0)
	for lead <= 3 && i < len(s) && isGroupSep(s[i]) && (sep == 0 || s[i] == sep) &&
		digits(s[i+1:]) == 3 {
		sep = s[i]
		i += 4
		groups++
	}
	if i == len(s) {
		return groups > 0
	}
	// A decimal part: after groups, the mark other than the group
	// separator; without groups, only a comma (a point is plain text
	// parseNumber reads).
	mark := s[i]
	switch {
	case groups > 0 && (mark == '.' || mark == ',') && mark != sep:
	case groups == 0 && mark == ',':
	default:
		return false
	}
	frac := digits(s[i+1:])
	return frac > 0 && i+1+frac == len(s)
}

// digits returns the number of ASCII digits s starts with.
func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

func isGroupSep(b byte) bool { return b == ',' || b == '.' || b == ' ' || b == '\'' }

// notNumeric is the error for text s in a column that must be numeric,
// saying, when s is a grouped or decimal-comma number, why it did not
// read as one.
func notNumeric(s string) error {
	if separatedNumber(s) {
		return fmt.Errorf("%w: %q (digit grouping and decimal commas are not read as numbers; write it without grouping and with a decimal point, e.g. 1234.5)", ErrNotNumeric, s)
	}
	return fmt.Errorf("%w: %q", ErrNotNumeric, s)
}
