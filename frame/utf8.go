package frame

import (
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// decodeText returns s unchanged when it is valid UTF-8, else s decoded
// whole as Windows-1252 (a superset of Latin-1's printable characters),
// the usual encoding of a CSV file that is not UTF-8. Labels and names
// must be UTF-8: models, reports and the server keep them as JSON text,
// where other bytes would turn into U+FFFD and no longer match the data.
//
// The decoding is injective, so two different byte strings never become
// one label: 1252 leaves 0x81, 0x8D, 0x8F, 0x90 and 0x9D undefined (x/text
// decodes all five to U+FFFD), and they become the C1 controls U+0081 and
// so on, as in the WHATWG encoding standard, which no other byte gives.
func decodeText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(2 * len(s))
	for i := 0; i < len(s); i++ {
		r := charmap.Windows1252.DecodeByte(s[i])
		if r == utf8.RuneError {
			r = rune(s[i])
		}
		b.WriteRune(r)
	}
	return b.String()
}

// readerCategorical returns the categorical column a reader gives for
// codes into levels (unique, in any order): levels that are not UTF-8
// are decoded by decodeText, one that then equals another level (a
// Latin-1 "caf\xe9" and a UTF-8 "café" in one file) is merged into it,
// and the levels are sorted. Valid UTF-8 levels are kept as they are,
// so their frames hash as before.
func readerCategorical(name string, codes []int32, levels []string) *Column {
	if !slices.ContainsFunc(levels, func(l string) bool { return !utf8.ValidString(l) }) {
		return sortLevels(NewCategorical(name, codes, levels))
	}
	index := make(map[string]int32, len(levels))
	var unique []string
	remap := make([]int32, len(levels))
	for k, l := range levels {
		l = decodeText(l)
		code, ok := index[l]
		if !ok {
			code = int32(len(unique))
			index[l] = code
			unique = append(unique, l)
		}
		remap[k] = code
	}
	for i, code := range codes {
		if code >= 0 {
			codes[i] = remap[code]
		}
	}
	return sortLevels(NewCategorical(name, codes, unique))
}

// windows1252Bytes returns the bytes a Windows-1252 file holds for the
// UTF-8 text t, when those bytes are not UTF-8 themselves: the cells that
// decodeText decodes to t. A missing-value token such as "néant" must
// match the cell "n\xe9ant" of a Latin-1 file, whose labels read as
// "néant"; cells are compared as bytes before they are decoded.
func windows1252Bytes(t string) (string, bool) {
	b, err := charmap.Windows1252.NewEncoder().String(t)
	if err != nil || utf8.ValidString(b) {
		return "", false
	}
	return b, true
}
