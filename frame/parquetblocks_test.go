package frame

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	pq "github.com/parquet-go/parquet-go"
)

// blocksTestFrame has every kind, missing values, UTC offsets that
// change along the rows, and text columns a schema converts.
func blocksTestFrame(n int) *Frame {
	x, ts, num := make([]float64, n), make([]float64, n), make([]float64, n)
	offsets := make([]int32, n)
	labels, codes := make([]string, n), make([]string, n)
	for i := range n {
		x[i], ts[i], num[i] = float64(i)/4, 1.6e9+float64(i)*3600, float64(i%13)
		offsets[i] = int32(i/100%3) * 3600
		labels[i] = "level" + strconv.Itoa(i*7%23)
		codes[i] = strconv.Itoa(i % 17)
		if i%11 == 0 {
			x[i], labels[i], codes[i] = math.NaN(), "", "NA"
		}
	}
	t := NewDatetime("t", ts)
	t.Offsets = offsets
	return MustNew(NewNumeric("x", x), NewCategoricalFromStrings("c", labels), t,
		NewCategoricalFromStrings("code", codes), NewNumeric("num", num))
}

// writeGroups writes f as Parquet of groupRows-row groups to a new file.
func writeGroups(t *testing.T, f *Frame, groupRows int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "blocks.parquet")
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeParquetTo(fh, f, &pq.Snappy, groupRows); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestParquetBlocksMatchReadParquet reads files of several row-group
// sizes in blocks of several sizes, with and without a schema converting
// columns, and checks that the blocks hold ReadParquet's values and that
// Kinds are its kinds.
func TestParquetBlocksMatchReadParquet(t *testing.T) {
	f := blocksTestFrame(1000)
	for _, groupRows := range []int{1 << 20, 64, 7} {
		path := writeGroups(t, f, groupRows)
		for _, opts := range []ReadOptions{{}, {Schema: map[string]Kind{"code": Numeric, "num": Categorical, "x": Numeric}}} {
			whole, err := ReadParquet(path, opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, rows := range []int{1, 5, 100, 1 << 16} {
				b, err := OpenParquetBlocks(path, opts)
				if err != nil {
					t.Fatal(err)
				}
				blocks, err := readBlocks(b, rows)
				if err != nil {
					t.Fatalf("groups of %d, blocks of %d: %v", groupRows, rows, err)
				}
				sameCells(t, whole, blocks)
				for j, k := range b.Kinds() {
					if k != whole.Col(j).Kind || b.Names()[j] != whole.Col(j).Name {
						t.Errorf("Kinds()[%d] = %s %q; ReadParquet reads %s %q", j, k, b.Names()[j], whole.Col(j).Kind, whole.Col(j).Name)
					}
				}
				if err := b.Close(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// TestParquetBlocksErrorOrder: blocks fail with ReadParquet's error,
// which reads every column before converting any, even when a block
// meets another problem first: a conversion error in row 4 of the first
// column and an infinite number in row 801 of the second give the
// infinite number's error; without it, the first column's conversion
// error, although the second column's comes first in the rows.
func TestParquetBlocksErrorOrder(t *testing.T) {
	n := 1000
	nums := func(inf bool) arrow.Array {
		return buildArray(t, arrow.PrimitiveTypes.Float64, func(b *array.Float64Builder) {
			for i := range n {
				v := float64(i)
				if inf && i == 800 {
					v = math.Inf(1)
				}
				b.Append(v)
			}
		})
	}
	text := func(bad int) arrow.Array {
		return buildArray(t, arrow.BinaryTypes.String, func(b *array.StringBuilder) {
			for i := range n {
				s := strconv.Itoa(i)
				if i == bad {
					s = "not a number"
				}
				b.Append(s)
			}
		})
	}
	opts := ReadOptions{Schema: map[string]Kind{"a": Numeric, "c": Numeric}}
	for _, tc := range []struct {
		name   string
		arrays []arrow.Array
	}{
		{"infinite", []arrow.Array{text(3), nums(true), text(-1)}},
		{"conversion", []arrow.Array{text(900), nums(false), text(2)}},
	} {
		path := filepath.Join(t.TempDir(), tc.name+".parquet")
		writeArrowFile(t, path, []string{"a", "b", "c"}, tc.arrays, false)
		_, want := ReadParquet(path, opts)
		if want == nil {
			t.Fatalf("%s: ReadParquet read the file", tc.name)
		}
		for _, rows := range []int{1, 100, 1 << 16} {
			b, err := OpenParquetBlocks(path, opts)
			if err != nil {
				t.Fatal(err)
			}
			_, err = readBlocks(b, rows)
			if err == nil || err.Error() != want.Error() {
				t.Errorf("%s, blocks of %d: %v; ReadParquet: %v", tc.name, rows, err, want)
			}
			b.Close()
		}
	}
}

// sameParquetBlocks checks that the Parquet file b, read in blocks of 2
// rows, gives whole, or the error werr ReadParquet gave.
func sameParquetBlocks(t *testing.T, b []byte, whole *Frame, werr error) {
	t.Helper()
	pb, err := openParquetBlocks(bytes.NewReader(b), int64(len(b)), ReadOptions{})
	var blocks []*Frame
	if err == nil {
		defer pb.Close()
		blocks, err = readBlocks(pb, 2)
	}
	switch {
	case (err == nil) != (werr == nil):
		t.Fatalf("blocks: error %v; ReadParquet: %v", err, werr)
	case err != nil:
		if !strings.HasSuffix(err.Error(), werr.Error()) {
			t.Fatalf("blocks: error %v; ReadParquet: %v", err, werr)
		}
	default:
		sameCells(t, whole, blocks)
	}
}

// TestParquetPanicSameError reads a damaged file (found by
// FuzzReadParquet) on which parquet-go panics: the whole read with the
// runtime's "index out of range [120] with length 2", the block reader's
// rescan, after parquet-go's pools had recycled a buffer, with its own
// "index out of bounds". The errors, which carried the panic's value,
// differed; ParquetBlocks promises ReadParquet's.
func TestParquetPanicSameError(t *testing.T) {
	b := fuzzInput(t, "FuzzReadParquet", "8e072de1c41176b2")
	fr, err := readParquetFrom(bytes.NewReader(b), int64(len(b)), ReadOptions{})
	if !errors.Is(err, errCorrupt) {
		t.Fatalf("ReadParquet error = %v; want one wrapping %v", err, errCorrupt)
	}
	sameParquetBlocks(t, b, fr, err)
}
