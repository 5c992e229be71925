package split

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// FuzzReadRows: ReadRows never panics, returns only non-negative indices,
// and what it reads, written back one per line, reads the same.
func FuzzReadRows(f *testing.F) {
	for _, s := range []string{"0\n1\n2\n", " 7 \r\n\n3", "-1\n", "1.5\n", "99999999999999999999\n", "+4\n", "\xff\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := ReadRows(bytes.NewReader(b))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") && !strings.HasPrefix(err.Error(), "after line ") {
				t.Fatalf("%q: error %q does not name a line", b, err)
			}
			return
		}
		var w strings.Builder
		for _, r := range rows {
			if r < 0 {
				t.Fatalf("%q: negative index %d", b, r)
			}
			w.WriteString(strconv.Itoa(r) + "\n")
		}
		again, err := ReadRows(strings.NewReader(w.String()))
		if err != nil || len(again) != len(rows) {
			t.Fatalf("%q: rows %v read back as %v, %v", b, rows, again, err)
		}
		for i := range rows {
			if again[i] != rows[i] {
				t.Fatalf("%q: rows %v read back as %v", b, rows, again)
			}
		}
	})
}
