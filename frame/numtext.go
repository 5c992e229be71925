package frame

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// A NumberText is a column read as categorical although every one of its
// values is a number: some are written with digit grouping ("1,000",
// "12,345.6", "1.234.567,8", "1 000"), a decimal comma ("1,5"), a
// currency sign ("$1,200", "3,50 €") or a percent sign ("12%"), which the
// readers do not parse as numbers. Which of "1,000" and "1,5" means what
// depends on a locale the file does not name, and what a sign scales by
// is the user's to say, so the readers keep such text as labels rather
// than guess; a NumberText lets the caller say so, since a model then
// learns the amounts as unordered categories.
type NumberText struct {
	Column  string `json:"column"`
	Example string `json:"example"` // a value that did not read as a number
}

// String says what the reader did and what the user can do about it.
func (n NumberText) String() string {
	return fmt.Sprintf("column %q was read as categorical: its values are numbers written with digit grouping, a decimal comma, a currency or a percent sign (e.g. %q), which are not read as numbers; "+
		"to use them as numbers, write them plainly, without grouping or signs and with a decimal point (1234.5); to keep them as categories and silence this warning, set the column's kind to categorical in the schema",
		n.Column, n.Example)
}

// NumberTexts returns the categorical columns of f, read from text (CSV
// or rows) with opts, whose values are all numbers and some written with
// digit grouping, a decimal comma or a sign, in column order. Columns
// whose kind opts.Schema sets are left out: their kind is the user's
// choice, not an inference.
func NumberTexts(f *Frame, opts ReadOptions) []NumberText {
	var out []NumberText
	for _, c := range f.cols {
		if _, forced := opts.Schema[c.Name]; forced {
			continue
		}
		if example, ok := NumberTextExample(c); ok {
			out = append(out, NumberText{Column: c.Name, Example: example})
		}
	}
	return out
}

// NumberTextExample reports whether c is a categorical column whose every
// level is a number and some level one written as NumberText describes,
// and returns the first such level. It looks at the levels only, stopping
// at the first that is not a number.
func NumberTextExample(c *Column) (string, bool) {
	if c.Kind != Categorical || len(c.Levels) == 0 {
		return "", false
	}
	example := ""
	for _, l := range c.Levels {
		if writtenNumber(l) {
			if example == "" {
				example = l
			}
			continue
		}
		if _, res := parseNumber(l); res != finiteNumber {
			return "", false
		}
	}
	return example, example != ""
}

// writtenNumber reports whether s is a number as people write one: with
// digit grouping or a decimal comma (separatedNumber), or a plain or
// grouped number after a currency sign or before a currency or percent
// sign, a space allowed between ("$1,200", "-$5", "€ 3,50", "12%").
func writtenNumber(s string) bool {
	if separatedNumber(s) {
		return true
	}
	sign := ""
	if s != "" && (s[0] == '-' || s[0] == '+') {
		sign, s = s[:1], s[1:]
	}
	body, ok := strings.CutSuffix(s, "%")
	if !ok {
		for _, c := range currencySigns {
			if b, found := strings.CutPrefix(s, c); found {
				body, ok = b, true
				break
			}
			if b, found := strings.CutSuffix(s, c); found {
				body, ok = b, true
				break
			}
		}
	}
	if !ok {
		return false
	}
	body = sign + strings.TrimSpace(body)
	if separatedNumber(body) {
		return true
	}
	_, res := parseNumber(body)
	return res == finiteNumber
}

// currencySigns are the signs writtenNumber strips.
var currencySigns = []string{"$", "€", "£", "¥"}

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
// saying, when s is a number as people write one (writtenNumber), why it
// did not read as one.
func notNumeric(s string) error {
	if writtenNumber(s) {
		return fmt.Errorf("%w: %q (digit grouping, decimal commas and currency or percent signs are not read as numbers; write it plainly, without grouping or signs and with a decimal point, e.g. 1234.5)", ErrNotNumeric, s)
	}
	return fmt.Errorf("%w: %q", ErrNotNumeric, s)
}

// A MixedNumbers is a column read as categorical because a few of its
// values are not numbers while nearly all are: "x", "-" or "?" written
// for unknown amounts, which the user usually means as missing. Read as
// categories, the numbers become unordered labels.
type MixedNumbers struct {
	Column  string   `json:"column"`
	Numbers int      `json:"numbers"` // rows holding a number
	Rows    int      `json:"rows"`    // rows not missing
	Texts   []string `json:"texts"`   // the values that are not numbers
}

// String says what the reader did and how to read the texts as missing.
func (m MixedNumbers) String() string {
	quoted := make([]string, len(m.Texts))
	for i, t := range m.Texts {
		quoted[i] = strconv.Quote(t)
	}
	list, verb := strings.Join(quoted, ", "), "are"
	if len(quoted) == 1 {
		verb = "is"
	}
	return fmt.Sprintf("column %q was read as categorical: %d of its %d values are numbers but %s %s not; if that means missing, "+
		"add it to missing_values for the column (missing_values: {%q: [%s]}) and the column reads as numbers",
		m.Column, m.Numbers, m.Rows, list, verb, m.Column, list)
}

// Mixed-number columns: at most this many distinct texts among numbers,
// on at most this share of the rows.
const (
	mixedMaxTexts = 3
	mixedMaxShare = 0.25
)

// MixedNumberColumns returns the categorical columns of f, read from text
// with opts, whose values are numbers but for at most three distinct
// texts on at most a quarter of the rows, in column order. Columns whose
// kind opts.Schema sets are left out, as are NumberTexts' columns.
func MixedNumberColumns(f *Frame, opts ReadOptions) []MixedNumbers {
	var out []MixedNumbers
	for _, c := range f.cols {
		if _, forced := opts.Schema[c.Name]; forced || c.Kind != Categorical {
			continue
		}
		if m, ok := mixedNumbers(c, mixedMaxShare); ok {
			out = append(out, m)
		}
	}
	return out
}

func mixedNumbers(c *Column, maxShare float64) (MixedNumbers, bool) {
	var texts []int32
	for code, l := range c.Levels {
		if _, res := parseNumber(l); res == finiteNumber || writtenNumber(l) {
			continue
		}
		if texts = append(texts, int32(code)); len(texts) > mixedMaxTexts {
			return MixedNumbers{}, false
		}
	}
	if len(texts) == 0 || len(texts) == len(c.Levels) {
		return MixedNumbers{}, false
	}
	m := MixedNumbers{Column: c.Name}
	for _, code := range c.Codes {
		if code < 0 {
			continue
		}
		m.Rows++
		if !slices.Contains(texts, code) {
			m.Numbers++
		}
	}
	if float64(m.Rows-m.Numbers) > maxShare*float64(m.Rows) {
		return MixedNumbers{}, false
	}
	for _, code := range texts {
		m.Texts = append(m.Texts, c.Levels[code])
	}
	return m, true
}
