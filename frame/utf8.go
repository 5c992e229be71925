package frame

import (
	"fmt"
	"unicode/utf8"
)

// invalidLabel returns the first row of categorical column c whose label
// is not valid UTF-8, and that label; -1 when every label is valid (or c
// is not categorical). It checks each level once and scans the codes only
// when some level is invalid.
func invalidLabel(c *Column) (int, string) {
	if c.Kind != Categorical {
		return -1, ""
	}
	var bad []bool
	for code, l := range c.Levels {
		if !utf8.ValidString(l) {
			if bad == nil {
				bad = make([]bool, len(c.Levels))
			}
			bad[code] = true
		}
	}
	if bad == nil {
		return -1, ""
	}
	for i, code := range c.Codes {
		if code >= 0 && bad[code] {
			return i, c.Levels[code]
		}
	}
	return -1, "" // an unused level: no row holds it
}

// Hints for notUTF8: text in another encoding, or bytes that are no text.
const (
	hintEncoding = "is the file Latin-1 or Windows-1252? save it as UTF-8"
	hintBinary   = "binary data is no category: leave the column out of the file or convert it to text"
)

// notUTF8 is the error for text s, a label or a column name ("column
// name"), that is not UTF-8.
func notUTF8(what, s, hint string) error {
	return fmt.Errorf("%s %q is %w (%s)", what, s, ErrNotUTF8, hint)
}
