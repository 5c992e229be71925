package frame

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"strconv"
	"testing"
)

// bigTable returns a header and rows large enough for the column-parallel
// check (over parallelCells cells): columns n0..n5 of numbers, d6 of
// dates and c7..c11 of labels, with the cells of edits replaced.
func bigTable(rows int, edits map[[2]int]string) ([]string, [][]string) {
	header := []string{"n0", "n1", "n2", "n3", "n4", "n5", "d6", "c7", "c8", "c9", "c10", "c11"}
	out := make([][]string, rows)
	for i := range out {
		rec := make([]string, len(header))
		for j := range rec {
			switch {
			case j < 6:
				rec[j] = strconv.Itoa(i*7 + j)
			case j == 6:
				rec[j] = fmt.Sprintf("2020-01-%02d", 1+i%28)
			default:
				rec[j] = fmt.Sprint("L", (i*j)%13)
			}
		}
		out[i] = rec
	}
	for at, s := range edits {
		out[at[0]][at[1]] = s
	}
	return header, out
}

// TestReadErrorOrderLargeTables checks that tables whose values are
// checked column by column, concurrently, report the error a row-by-row
// read meets first: the earliest row's (its leftmost column's), malformed
// input before the values after it, an infinite number only without
// either, and the value's own line when a row spans several lines.
func TestReadErrorOrderLargeTables(t *testing.T) {
	schema := map[string]Kind{"n3": Numeric, "d6": Datetime}
	type want struct {
		row, line int
		column    string
		err       error
	}
	cases := []struct {
		name  string
		edits map[[2]int]string
		// csvOnly appends raw CSV text after the rows (a malformed line)
		tail string
		want want
	}{
		{"earliest row wins", map[[2]int]string{{2000, 3}: "x", {1500, 6}: "y", {2700, 3}: "z"}, "",
			want{1501, 1502, "d6", ErrNotDatetime}},
		{"leftmost column in a row", map[[2]int]string{{1500, 6}: "y", {1500, 3}: "x"}, "",
			want{1501, 1502, "n3", ErrNotNumeric}},
		{"line of a value below a multi-line row", map[[2]int]string{{10, 9}: "two\nlines", {1500, 3}: "x"}, "",
			want{1501, 1503, "n3", ErrNotNumeric}},
		{"line of a value in a multi-line row", map[[2]int]string{{1500, 2}: "a\nb", {1500, 3}: "x"}, "",
			want{1501, 1503, "n3", ErrNotNumeric}},
		{"parse error before malformed line", map[[2]int]string{{1000, 3}: "x"}, "1,2,\"3\n", want{1001, 1002, "n3", ErrNotNumeric}},
		{"infinite number after parse errors", map[[2]int]string{{5, 1}: "1e999", {2000, 3}: "x"}, "", want{2001, 2002, "n3", ErrNotNumeric}},
		{"infinite number alone", map[[2]int]string{{900, 4}: "1e999", {5, 1}: "-1e999"}, "", want{6, 7, "n1", ErrInfinite}},
	}
	for _, c := range cases {
		header, rows := bigTable(3000, c.edits)
		if c.tail == "" { // ReadRows has no lines
			t.Run(c.name+"/rows", func(t *testing.T) {
				_, err := ReadRows(header, rows, ReadOptions{Schema: schema})
				checkParseError(t, err, c.want.row, 0, c.want.column, c.want.err)
			})
		}
		t.Run(c.name+"/csv", func(t *testing.T) {
			var buf bytes.Buffer
			w := csv.NewWriter(&buf)
			w.Write(header)
			w.WriteAll(rows)
			buf.WriteString(c.tail)
			_, err := ReadCSV(&buf, ReadOptions{Schema: schema})
			checkParseError(t, err, c.want.row, c.want.line, c.want.column, c.want.err)
		})
	}
	t.Run("malformed line before a parse error", func(t *testing.T) {
		header, rows := bigTable(3000, map[[2]int]string{{2000, 3}: "x"})
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Write(header)
		w.WriteAll(rows[:1000])
		w.Flush()
		buf.WriteString("1,\"2\"x,3\n")
		w.WriteAll(rows[1000:])
		_, err := ReadCSV(&buf, ReadOptions{Schema: schema})
		checkParseError(t, err, 0, 1002, "", csv.ErrQuote)
	})
	t.Run("short row before a parse error", func(t *testing.T) {
		header, rows := bigTable(3000, map[[2]int]string{{2000, 3}: "x", {2500, 6}: "y"})
		rows[2200] = rows[2200][:5]
		_, err := ReadRows(header, rows, ReadOptions{Schema: schema})
		checkParseError(t, err, 2001, 0, "n3", ErrNotNumeric)
		rows[1200] = rows[1200][:5]
		_, err = ReadRows(header, rows, ReadOptions{Schema: schema})
		checkParseError(t, err, 1201, 0, "", nil)
	})
}

func checkParseError(t *testing.T, err error, row, line int, column string, want error) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a *ParseError", err)
	}
	if pe.Row != row || pe.Line != line || pe.Column != column || (want != nil && !errors.Is(err, want)) {
		t.Fatalf("err = %v (row %d, line %d, column %q); want row %d, line %d, column %q, %v", err, pe.Row, pe.Line, pe.Column, row, line, column, want)
	}
}

// TestReadLargeTablesAgree checks that a table read as CSV and as rows
// gives the same frame when it is checked column by column concurrently,
// and the same as its first rows read alone (sequentially) for those rows.
func TestReadLargeTablesAgree(t *testing.T) {
	header, rows := bigTable(4000, map[[2]int]string{{7, 2}: "NA", {9, 6}: "", {11, 8}: "N/A"})
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(header)
	w.WriteAll(rows)
	fromCSV, err := ReadCSV(&buf, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fromRows, err := ReadRows(header, rows, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	small, err := ReadRows(header, rows[:20], ReadOptions{}) // under parallelCells
	if err != nil {
		t.Fatal(err)
	}
	if fromCSV.Hash() != fromRows.Hash() {
		t.Fatal("ReadCSV and ReadRows differ on a large table")
	}
	for j, c := range fromRows.Columns() {
		s := small.Columns()[j]
		if c.Kind != s.Kind {
			t.Fatalf("column %s: kind %v, on 20 rows %v", c.Name, c.Kind, s.Kind)
		}
		for i := range 20 {
			if cellText(c, i) != cellText(s, i) {
				t.Fatalf("column %s row %d differs from the 20-row read", c.Name, i)
			}
		}
	}
}

func cellText(c *Column, i int) string {
	switch {
	case c.IsMissing(i):
		return "<missing>"
	case c.Kind == Categorical:
		return c.Label(i)
	}
	return strconv.FormatFloat(c.Num[i], 'g', -1, 64)
}
