package frame

import (
	"bytes"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadRowsMatchesReadCSV reads the same cells through ReadRows and
// through ReadCSV: the frames must be identical (same hash: names, kinds,
// values, levels), and so must the failures, up to the line numbers that
// only a file has.
func TestReadRowsMatchesReadCSV(t *testing.T) {
	files := []string{filepath.Join("..", "testdata", "ames.csv"), filepath.Join("..", "testdata", "txhousing.csv"), filepath.Join("..", "testdata", "credit_data.csv")}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		compareRows(t, path, recs[0], recs[1:], ReadOptions{})
		// With the kinds pinned, as a predictor reads its inputs.
		f, err := ReadCSV(bytes.NewReader(data), ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		schema := map[string]Kind{}
		for _, c := range f.Columns() {
			schema[c.Name] = c.Kind
		}
		compareRows(t, path+" pinned", recs[0], recs[1:], ReadOptions{Schema: schema})
		// Pinned columns keep the numbers check parses; inferred ones
		// parse them again: the frames must agree.
		if pinned, err := ReadRows(recs[0], recs[1:], ReadOptions{Schema: schema}); err != nil || pinned.Hash() != f.Hash() {
			t.Errorf("%s: pinned kinds read a different frame than inferred ones (error %v)", path, err)
		}
	}
	cases := []struct {
		name   string
		header []string
		rows   [][]string
		opts   ReadOptions
	}{
		{"missing tokens and -0", []string{"x", "c"}, [][]string{{"NA", "a"}, {"-0", ""}, {"+3", "null"}, {"1e3", "N/A"}}, ReadOptions{}},
		{"no missing tokens", []string{"x", "c"}, [][]string{{"1", ""}, {"2", "NA"}}, ReadOptions{Missing: []string{}}},
		{"CRLF folded", []string{"c"}, [][]string{{"a\r\nb"}, {"a\r\r\nb"}}, ReadOptions{}},
		{"dates", []string{"d"}, [][]string{{"2020-01-02"}, {"2020-01-02T03:04:05Z"}}, ReadOptions{}},
		{"forced numeric fails", []string{"x"}, [][]string{{"1"}, {"one"}}, ReadOptions{Schema: map[string]Kind{"x": Numeric}}},
		{"forced numeric", []string{"x", "c"}, [][]string{{"1", "a"}, {"NA", "a"}, {"-0", "a"}, {"2.5e3", "a"}, {"", "a"}}, ReadOptions{Schema: map[string]Kind{"x": Numeric}}},
		{"forced numeric infinite", []string{"x"}, [][]string{{"1"}, {"-1e999"}}, ReadOptions{Schema: map[string]Kind{"x": Numeric}}},
		{"forced categorical", []string{"x"}, [][]string{{"10"}, {"9"}}, ReadOptions{Schema: map[string]Kind{"x": Categorical}}},
		{"infinite", []string{"x"}, [][]string{{"1e999"}}, ReadOptions{}},
		{"duplicate name", []string{"x", "x"}, [][]string{{"1", "2"}}, ReadOptions{}},
		{"schema column absent", []string{"x"}, [][]string{{"1"}}, ReadOptions{Schema: map[string]Kind{"y": Numeric}}},
	}
	for _, c := range cases {
		compareRows(t, c.name, c.header, c.rows, c.opts)
	}
	if _, err := ReadRows([]string{"x"}, nil, ReadOptions{}); !errors.Is(err, ErrNoRows) {
		t.Errorf("ReadRows without rows: %v; want ErrNoRows", err)
	}
	if _, err := ReadRows([]string{"x", "y"}, [][]string{{"1"}}, ReadOptions{}); err == nil {
		t.Error("ReadRows of a short row: no error")
	}
	if _, err := ReadTextColumns([]string{"x"}, textColumns([][]string{{}}), ReadOptions{}); !errors.Is(err, ErrNoRows) {
		t.Errorf("ReadTextColumns without rows: %v; want ErrNoRows", err)
	}
	for _, cells := range [][][]string{{{"1"}, {"2", "3"}}, {{"1"}}} {
		if _, err := ReadTextColumns([]string{"x", "y"}, textColumns(cells), ReadOptions{}); err == nil {
			t.Errorf("ReadTextColumns of columns %q for two names: no error", cells)
		}
	}
}

func compareRows(t *testing.T, name string, header []string, rows [][]string, opts ReadOptions) {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(header)
	w.WriteAll(rows)
	want, werr := ReadCSV(&buf, opts)
	got, err := ReadRows(header, rows, opts)
	compareColumns(t, name, header, rows, opts, got, err)
	if (err == nil) != (werr == nil) {
		t.Fatalf("%s: ReadRows error %v, ReadCSV error %v", name, err, werr)
	}
	if err != nil {
		var pe, wpe *ParseError
		if errors.As(err, &pe) != errors.As(werr, &wpe) || (pe != nil && (pe.Row != wpe.Row || pe.Column != wpe.Column || pe.Err.Error() != wpe.Err.Error())) {
			t.Errorf("%s: ReadRows error %v, ReadCSV error %v", name, err, werr)
		}
		return
	}
	if got.Hash() != want.Hash() {
		t.Errorf("%s: ReadRows and ReadCSV read different frames:\n%v\n%v", name, got.Schema(), want.Schema())
	}
}

// compareColumns reads rows given column by column through
// ReadTextColumns and checks it reads what ReadRows read (want, or the
// error werr), and that the columns can be read again to the same.
func compareColumns(t *testing.T, name string, header []string, rows [][]string, opts ReadOptions, want *Frame, werr error) {
	t.Helper()
	cells := make([][]string, len(header))
	for _, r := range rows {
		if len(r) != len(header) {
			return // only ReadRows takes ragged rows
		}
		for j, s := range r {
			cells[j] = append(cells[j], s)
		}
	}
	text := textColumns(cells)
	for range 2 {
		got, err := ReadTextColumns(header, text, opts)
		if (err == nil) != (werr == nil) {
			t.Fatalf("%s: ReadTextColumns error %v, ReadRows error %v", name, err, werr)
		}
		if err != nil {
			if strings.TrimPrefix(err.Error(), "frame: read columns: ") != strings.TrimPrefix(werr.Error(), "frame: read rows: ") {
				t.Errorf("%s: ReadTextColumns error %v, ReadRows error %v", name, err, werr)
			}
			return
		}
		if got.Hash() != want.Hash() {
			t.Errorf("%s: ReadTextColumns and ReadRows read different frames:\n%v\n%v", name, got.Schema(), want.Schema())
		}
	}
	for j, c := range cells {
		for i, s := range c {
			if got := text[j].Cell(i); got != s {
				t.Fatalf("%s: cell %d of column %d is %q after reading; want %q", name, i, j, got, s)
			}
		}
	}
}

// textColumns files cells, given column by column, in TextColumns.
func textColumns(cells [][]string) []TextColumn {
	out := make([]TextColumn, len(cells))
	for j, c := range cells {
		for _, s := range c {
			out[j].AppendString(s)
		}
	}
	return out
}
