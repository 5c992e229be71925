package frame

import (
	"errors"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// pimaText has a zero blood pressure that means "not measured" (as in the
// Pima diabetes data) and zeros that are values: pregnancies, and a name
// "0". Read with columnMissing, bp's 0 is missing, the others are not.
const pimaText = "bp,pregnancies,name\n0,0,0\n72,3,NA\n66,0,x\n"

var columnMissing = ReadOptions{ColumnMissing: map[string][]string{"bp": {"0"}, "absent": {"3"}}}

// checkPima checks f, pimaText read with columnMissing.
func checkPima(t *testing.T, how string, f *Frame) {
	t.Helper()
	bp, _ := f.Lookup("bp")
	preg, _ := f.Lookup("pregnancies")
	name, _ := f.Lookup("name")
	if bp.Kind != Numeric || !math.IsNaN(bp.Num[0]) || bp.Num[1] != 72 || bp.Num[2] != 66 {
		t.Errorf("%s: bp = %v (%s); want [NaN 72 66], its 0 missing", how, bp.Num, bp.Kind)
	}
	if preg.Kind != Numeric || !slices.Equal(preg.Num, []float64{0, 3, 0}) {
		t.Errorf("%s: pregnancies = %v; want [0 3 0]: another column's texts and an absent column's do not apply", how, preg.Num)
	}
	if name.Kind != Categorical || name.Label(0) != "0" || !name.IsMissing(1) {
		t.Errorf("%s: name = %q %v; want \"0\" a label and the default \"NA\" missing", how, name.Levels, name.Codes)
	}
}

// TestColumnMissing: every reader of text reads a column's own missing
// texts in that column only, besides the shared ones.
func TestColumnMissing(t *testing.T) {
	f, err := ReadCSV(strings.NewReader(pimaText), columnMissing)
	if err != nil {
		t.Fatal(err)
	}
	checkPima(t, "ReadCSV", f)
	checkSplit(t, []byte(pimaText), columnMissing, f, nil)

	b, err := NewCSVBlocks(strings.NewReader(pimaText), columnMissing)
	if err != nil {
		t.Fatal(err)
	}
	block, err := b.Next(10)
	if err != nil {
		t.Fatal(err)
	}
	checkPima(t, "CSVBlocks", block)

	lines := strings.Split(strings.TrimSpace(pimaText), "\n")
	header := strings.Split(lines[0], ",")
	var rows [][]string
	text := make([]TextColumn, len(header))
	for _, l := range lines[1:] {
		cells := strings.Split(l, ",")
		rows = append(rows, cells)
		for j, c := range cells {
			text[j].AppendString(c)
		}
	}
	if f, err = ReadRows(header, rows, columnMissing); err != nil {
		t.Fatal(err)
	}
	checkPima(t, "ReadRows", f)
	if f, err = ReadTextColumns(header, text, columnMissing); err != nil {
		t.Fatal(err)
	}
	checkPima(t, "ReadTextColumns", f)

	if got, want := columnMissing.MissingIn("bp"), append(DefaultMissing(), "0"); !slices.Equal(got, want) {
		t.Errorf("MissingIn(bp) = %q; want %q", got, want)
	}
	own := ReadOptions{Missing: []string{"?"}, ColumnMissing: columnMissing.ColumnMissing}
	if got := own.MissingIn("pregnancies"); !slices.Equal(got, []string{"?"}) {
		t.Errorf("MissingIn(pregnancies) = %q; want [?]", got)
	}
}

// TestParquetColumnMissing: a Parquet string column's own missing texts
// mark its labels missing, whether or not Schema converts it, and leave
// other columns alone; a column of numbers with texts of its own is an
// error (its values have no text), from ReadParquet and ParquetBlocks
// alike.
func TestParquetColumnMissing(t *testing.T) {
	f := MustNew(
		NewCategorical("bp", []int32{0, 1, 2}, []string{"0", "66", "72"}),
		NewCategorical("name", []int32{0, 1, 2}, []string{"0", "NA", "x"}),
		NewNumeric("pregnancies", []float64{0, 3, 0}),
	)
	path := filepath.Join(t.TempDir(), "pima.parquet")
	if err := WriteParquet(path, f); err != nil {
		t.Fatal(err)
	}
	opts := ReadOptions{ColumnMissing: map[string][]string{"bp": {"0", "NA"}, "name": {"x"}}}
	for _, schema := range []map[string]Kind{nil, {"bp": Numeric}} {
		opts.Schema = schema
		got, err := ReadParquet(path, opts)
		if err != nil {
			t.Fatal(err)
		}
		blocks, err := OpenParquetBlocks(path, opts)
		if err != nil {
			t.Fatal(err)
		}
		block, err := blocks.Next(10)
		blocks.Close()
		if err != nil {
			t.Fatal(err)
		}
		for how, g := range map[string]*Frame{"ReadParquet": got, "ParquetBlocks": block} {
			bp, _ := g.Lookup("bp")
			name, _ := g.Lookup("name")
			if !bp.IsMissing(0) || bp.IsMissing(1) || bp.IsMissing(2) {
				t.Errorf("%s schema %v: bp missing = %t %t %t; want its 0 only", how, schema, bp.IsMissing(0), bp.IsMissing(1), bp.IsMissing(2))
			}
			// "NA" is a label of a Parquet string column: only the
			// column's own texts mark it.
			if name.IsMissing(0) || name.IsMissing(1) || !name.IsMissing(2) || slices.Contains(name.Levels, "x") {
				t.Errorf("%s: name = %q %v; want \"0\" and \"NA\" labels, \"x\" missing", how, name.Levels, name.Codes)
			}
		}
	}

	opts = ReadOptions{ColumnMissing: map[string][]string{"pregnancies": {"0"}}}
	_, err := ReadParquet(path, opts)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Column != "pregnancies" || !strings.Contains(err.Error(), "not strings") {
		t.Fatalf("ReadParquet(numbers with own texts) error = %v; want a *ParseError naming pregnancies", err)
	}
	blocks, err := OpenParquetBlocks(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer blocks.Close()
	for err == nil {
		_, err = blocks.Next(10)
	}
	if errors.Is(err, io.EOF) || !errors.As(err, &pe) || pe.Column != "pregnancies" {
		t.Fatalf("ParquetBlocks(numbers with own texts) error = %v; want ReadParquet's", err)
	}
}
