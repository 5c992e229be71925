package frame

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readBlocks reads b (a *CSVBlocks or *ParquetBlocks) to its end,
// returning the blocks or the error.
func readBlocks(b interface{ Next(int) (*Frame, error) }, rows int) ([]*Frame, error) {
	var out []*Frame
	for {
		f, err := b.Next(rows)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, f)
	}
}

// sameCells reports the first cell where the blocks, one after another,
// differ from whole, by value (label text for categories): the codes and
// level order of a block are its own.
func sameCells(t *testing.T, whole *Frame, blocks []*Frame) {
	t.Helper()
	row := 0
	for _, f := range blocks {
		for j, want := range whole.Columns() {
			got := f.Col(j)
			if got.Name != want.Name || got.Kind != want.Kind {
				t.Fatalf("block at row %d column %d is %q %s; want %q %s", row, j, got.Name, got.Kind, want.Name, want.Kind)
			}
			for i := range f.NumRows() {
				w, g := row+i, i
				same := want.IsMissing(w) == got.IsMissing(g)
				switch {
				case !same || want.IsMissing(w):
				case want.Kind == Categorical:
					same = want.Label(w) == got.Label(g)
				default:
					same = math.Float64bits(want.Num[w]) == math.Float64bits(got.Num[g]) && want.Offset(w) == got.Offset(g)
				}
				if !same {
					t.Fatalf("column %q row %d differs from the whole file's", want.Name, w+1)
				}
			}
		}
		row += f.NumRows()
	}
	if row != whole.NumRows() {
		t.Fatalf("blocks hold %d rows; the file %d", row, whole.NumRows())
	}
}

// TestCSVBlocksMatchReadFile reads real files in blocks of several sizes,
// with every column pinned to the kind ReadFile infers (as a model's input
// contract pins them), and checks that the blocks hold ReadFile's values
// and that Kinds, unpinned, is the whole file's inference.
func TestCSVBlocksMatchReadFile(t *testing.T) {
	gz := filepath.Join(t.TempDir(), "credit_data.csv.gz")
	raw, err := os.ReadFile(filepath.Join(testdataDir, "credit_data.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(raw)
	zw.Close()
	if err := os.WriteFile(gz, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	files := []string{filepath.Join(testdataDir, "txhousing.csv"), filepath.Join(testdataDir, "ames.csv"), gz}
	for _, path := range files {
		whole, err := ReadFile(path, ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range []int{1, 7, 1000, 1 << 16} {
			b, err := OpenCSVBlocks(path, ReadOptions{Schema: whole.KindMap()})
			if err != nil {
				t.Fatal(err)
			}
			blocks, err := readBlocks(b, size)
			b.Close()
			if err != nil {
				t.Fatalf("%s in blocks of %d: %v", path, size, err)
			}
			sameCells(t, whole, blocks)
		}
		b, err := OpenCSVBlocks(path, ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := readBlocks(b, 7); err != nil {
			t.Fatal(err)
		}
		b.Close()
		for j, k := range b.Kinds() {
			if want := whole.Col(j).Kind; k != want {
				t.Errorf("%s: Kinds()[%d] (%s) = %s; want %s", path, j, whole.Col(j).Name, k, want)
			}
		}
	}
}

// TestCSVBlocksErrorsAreReadCSVs checks that reading a bad file to its
// end in blocks fails with ReadCSV's error for the whole file, whatever
// the block size: rows counted over the file, the earliest row first, a
// malformed record after the bad values before it, and an infinite
// number an error only when its whole column is numeric.
func TestCSVBlocksErrorsAreReadCSVs(t *testing.T) {
	tests := []struct {
		name, text string
		schema     map[string]Kind
	}{
		{"forced numeric, bad value in a late row", "a,b\n1,x\n2,y\n3,z\n4,w\nfive,v\n", map[string]Kind{"a": Numeric}},
		{"earliest row of two columns", "a,b\n1,x\n2,2020-01-01\n3,bad\nq,2020-01-03\n", map[string]Kind{"a": Numeric, "b": Datetime}},
		{"infinite number, numeric column", "a,b\n1,x\n2,y\n1e999,z\n4,w\n", nil},
		{"malformed record after a bad value", "a,b\n1,x\nq,y\n3\n4,w\n", map[string]Kind{"a": Numeric}},
		{"malformed record before a bad value", "a,b\n1,x\n2\nq,y\n", map[string]Kind{"a": Numeric}},
		{"no rows", "a,b\n", nil},
		{"inf in two columns, the first numeric one wins", "a,b,c\n1,1,x\n2,1e999,y\n1e999,3,z\n", nil},
	}
	for _, tt := range tests {
		_, want := ReadCSV(strings.NewReader(tt.text), ReadOptions{Schema: tt.schema})
		if want == nil {
			t.Fatalf("%s: ReadCSV read the file; the test needs a bad one", tt.name)
		}
		for _, size := range []int{1, 2, 100} {
			b, err := NewCSVBlocks(strings.NewReader(tt.text), ReadOptions{Schema: tt.schema})
			if err == nil {
				_, err = readBlocks(b, size)
			}
			if err == nil || err.Error() != want.Error() {
				t.Errorf("%s, blocks of %d: error %v; want %v", tt.name, size, err, want)
			}
		}
	}
}

// TestCSVBlocksInfiniteInTextColumn: an infinite number in a column that
// later rows make categorical is a label, not an error, in ReadCSV; a
// block that holds only numbers must not refuse it.
func TestCSVBlocksInfiniteInTextColumn(t *testing.T) {
	text := "a,b\n1,1e999\n2,3\n3,word\n"
	if _, err := ReadCSV(strings.NewReader(text), ReadOptions{}); err != nil {
		t.Fatalf("ReadCSV: %v", err)
	}
	b, err := NewCSVBlocks(strings.NewReader(text), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := readBlocks(b, 2)
	if err != nil || len(blocks) != 2 {
		t.Fatalf("blocks of 2: %d blocks, error %v; want 2, nil", len(blocks), err)
	}
	if k := b.Kinds()[1]; k != Categorical {
		t.Errorf("Kinds()[1] = %s; want categorical", k)
	}
}
