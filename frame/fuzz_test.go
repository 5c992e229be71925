package frame

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzReadCSV checks that ReadCSV never panics, that accepted input gives
// equally long columns, and that WriteCSV followed by ReadCSV with the
// kinds pinned reproduces the same content hash; and that whenever the
// pieces of a split parse are accepted, they read what ReadCSV reads.
func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,x\n2,y\n",
		"a,b\r\n1,\"x,\"\"y\"\"\"\r\n,NA\r\n",
		"\uFEFFd,t\n2000-01-01,2000-01-01T10:00:00+02:00\nnull,2000-01-02 00:00:00.5\n",
		"a\n\"\"\n1e-300\n-0\n",
		"x,y\n\"multi\nline\",3\n",
		"a,a\n1,2\n",
		"a,,c\n1,2,3\n",
		"a,b\n1\n",
		"a\nInf\n",
		"a\n1e999\n",
		"a,b\n\"unterminated\n",
		"a\n",
		"",
		"a\n 1\n0x1p3\n",
		"c\n\r\n\"\r\"\n",
		"a,b\n\"1\n2\",\"x\r\ny\"\n3,\"\"\"q\"\"\"\n\n4,z\r",
		"x,c\n1,caf\xe9\n2,ok\n",
		// Latin-1 and UTF-8 spellings of one label, 1252's undefined bytes.
		"c\xe9\ncafé\ncaf\xe9\n\x81\x8d\n",
		// UTC offsets are kept (DST switches one) and written back.
		"d,t\n2020-01-01T00:00:00+01:00,2020-01-01T00:00:00.5+05:30\n2020-07-01T00:00:00+02:00,\n",
		// civil times in range whose instants are not
		"d\n9999-12-31T23:59:59-05:00\n0000-01-01T00:00:00+14:00\n",
		// minute resolution and year-first slash dates
		"a,b,c\n2019-01-01 13:45,2019/01/31,2019-01-01T13:45+01:00\n2019-01-01T00:00Z,2019/01/31 13:45:30.5,\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fr, err := ReadCSV(strings.NewReader(s), ReadOptions{})
		checkSplit(t, []byte(s), ReadOptions{}, fr, err)
		if err != nil {
			if fr != nil {
				t.Fatalf("ReadCSV returned a frame with error %v", err)
			}
			return
		}
		if fr.NumRows() == 0 || fr.NumCols() == 0 {
			t.Fatalf("accepted input gave a %d×%d frame", fr.NumRows(), fr.NumCols())
		}
		for _, c := range fr.Columns() {
			if c.Len() != fr.NumRows() {
				t.Fatalf("column %q has %d values; frame has %d rows", c.Name, c.Len(), fr.NumRows())
			}
		}
		checkLegacy(t, s, fr)
		var buf bytes.Buffer
		if err := WriteCSV(&buf, fr); err != nil {
			t.Fatalf("WriteCSV: %v", err)
		}
		back, err := ReadCSV(bytes.NewReader(buf.Bytes()), ReadOptions{Schema: fr.KindMap()})
		if err != nil {
			t.Fatalf("re-reading %q (written from %q): %v", buf.String(), s, err)
		}
		if back.Hash() != fr.Hash() {
			t.Fatalf("round trip changed the hash: %q -> %q", s, buf.String())
		}
	})
}

// checkLegacy checks that reading s as tabforge did before it read
// timestamps without seconds (ReadOptions.LegacyDatetimes) gives the
// columns of fr, its reading now, except datetime columns of fr read
// as text; such a column's labels are the values as written.
func checkLegacy(t *testing.T, s string, fr *Frame) {
	t.Helper()
	old, err := ReadCSV(strings.NewReader(s), ReadOptions{LegacyDatetimes: true})
	if err != nil {
		t.Fatalf("read %q with LegacyDatetimes: %v; without: accepted", s, err)
	}
	for i, c := range fr.Columns() {
		o := old.Col(i)
		if o.Kind == c.Kind {
			continue
		}
		if c.Kind != Datetime || o.Kind != Categorical {
			t.Fatalf("column %q: %v with LegacyDatetimes, %v without", c.Name, o.Kind, c.Kind)
		}
		for r := range o.Len() {
			if o.IsMissing(r) != c.IsMissing(r) {
				t.Fatalf("column %q row %d: missing %v with LegacyDatetimes, %v without", c.Name, r, o.IsMissing(r), c.IsMissing(r))
			}
			if v, ok := ParseDatetime(o.Label(r)); !o.IsMissing(r) && (!ok || v != c.Num[r]) {
				t.Fatalf("column %q row %d: label %q reads as %v, %v; the datetime column holds %v", c.Name, r, o.Label(r), v, ok, c.Num[r])
			}
		}
	}
}
