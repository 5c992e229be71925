package frame

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

var updateRunBombs = flag.Bool("update-run-bombs", false, "rewrite testdata/run_bomb_*.parquet from runBombs")

// bombBytes is about what parquet-go allocates for each bomb of runBombs
// when nothing stops it (1 to 2.4 GB with v0.32.1); the allocations of a
// refusal must stay far below.
const bombBytes = 1 << 30

// runBomb is a Parquet file of 8 rows whose pages ask parquet-go for
// about bombBytes, and the refusal expected.
type runBomb struct {
	name string // testdata/run_bomb_<name>.parquet
	col  craftColumn
	msg  string
}

// runBombs are pages whose RLE runs (which parquet-go decodes in full,
// whatever the page's value count) are longer than the page: in the
// definition levels, the dictionary indices and RLE booleans, in v1 and
// v2 pages, compressed or not; and a data page claiming more values than
// its row group has rows, and a dictionary page more values than its
// bytes hold, for which parquet-go allocates before decoding.
func runBombs() []runBomb {
	levels := rleRun(bombBytes, 1, 1) // a level per byte
	indices := concat([]byte{1}, rleRun(bombBytes/4, 0, 1))
	dict := craftPage{header: dictionaryPage(1), body: plainInt32s(1)}
	v2Dict := dataPageV2(8, format.RLEDictionary, 0)
	v2Dict.DataPageHeaderV2.V.IsCompressed = thrift.New(true)
	var bools []byte
	for range 4 { // 2^31-1 bits each: 256 MiB
		bools = append(bools, rleRun(1<<31-1, 1, 1)...)
	}
	return []runBomb{
		{"levels_v1", craftColumn{format.Int32, true, 8, format.Uncompressed, []craftPage{
			{header: dataPageV1(8, format.Plain), body: concat(withLength(levels), plainInt32s(8))}}},
			"page 0: definition levels: runs of far more values than the page's 8"},
		{"levels_v1_snappy", craftColumn{format.Int32, true, 8, format.Snappy, []craftPage{
			{header: dataPageV1(8, format.Plain), body: concat(withLength(levels), plainInt32s(8))}}},
			"page 0: definition levels: runs of far more values than the page's 8"},
		{"levels_v2", craftColumn{format.Int32, true, 8, format.Uncompressed, []craftPage{
			{header: dataPageV2(8, format.Plain, len(levels)), body: concat(levels, plainInt32s(8)), levels: len(levels)}}},
			"page 0: definition levels: runs of far more values than the page's 8"},
		{"indices_v1", craftColumn{format.Int32, false, 8, format.Uncompressed, []craftPage{
			dict, {header: dataPageV1(8, format.RLEDictionary), body: indices}}},
			"page 1: dictionary indices: runs of far more values than the page's 8"},
		{"indices_v2_snappy", craftColumn{format.Int32, false, 8, format.Snappy, []craftPage{
			dict, {header: v2Dict, body: indices}}},
			"page 1: dictionary indices: runs of far more values than the page's 8"},
		{"booleans_v1", craftColumn{format.Boolean, false, 8, format.Uncompressed, []craftPage{
			{header: dataPageV1(8, format.RLE), body: withLength(bools)}}},
			"page 0: BOOLEAN values: runs of far more values than the page's 8"},
		{"values_beyond_rows", craftColumn{format.Int32, true, 8, format.Uncompressed, []craftPage{
			{header: dataPageV1(bombBytes, format.Plain), body: concat(withLength(rleRun(8, 1, 1)), plainInt32s(8))}}},
			"page 0: 1073741824 values; the row group has 8 rows"},
		{"dictionary_values", craftColumn{format.Int32, false, 8, format.Uncompressed, []craftPage{
			{header: dictionaryPage(bombBytes / 4), body: plainInt32s(1)}, {header: dataPageV1(8, format.RLEDictionary), body: concat([]byte{1}, rleRun(8, 0, 1))}}},
			"page 0: dictionary of 268435456 INT32 values in 4 bytes"},
	}
}

// TestReadParquetRefusesRunBombs: both readers refuse each of runBombs
// from its pages before parquet-go decodes them, naming the column and
// the page, and allocate a small fraction of the bomb's size to do so.
func TestReadParquetRefusesRunBombs(t *testing.T) {
	for _, bomb := range runBombs() {
		t.Run(bomb.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), bomb.name+".parquet")
			if err := os.WriteFile(path, bomb.col.bytes(t), 0o644); err != nil {
				t.Fatal(err)
			}
			var err, berr error
			alloc := allocated(func() {
				_, err = ReadFile(path, ReadOptions{})
				_, berr = OpenParquetBlocks(path, ReadOptions{})
			})
			want := `column "x": ` + bomb.msg
			if !errors.Is(err, errCorrupt) || !strings.Contains(err.Error(), want) {
				t.Errorf("ReadFile() error = %v; want a corrupt file with %q", err, want)
			}
			if berr == nil || err == nil || berr.Error() != err.Error() {
				t.Errorf("OpenParquetBlocks() error = %v; ReadFile's %v", berr, err)
			}
			if alloc > bombBytes/16 {
				t.Errorf("refusing the file allocated %d bytes; want far below the bomb's %d", alloc, bombBytes)
			}
		})
	}
}

// allocated returns the bytes allocated on the heap while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestReadParquetPaddedRuns: pages whose level runs pass their value
// count as real writers' do are read. A bit-packed run holds a multiple
// of 8 values, so the last one of a page may pass its count by up to 7,
// and some writers end a page with an RLE run longer than it (parquet-go's
// own test files: 17 values in a page of 16, 44,292 in 44,288, which a
// bound of the count rounded up to 8 refused).
func TestReadParquetPaddedRuns(t *testing.T) {
	for _, tt := range []struct {
		name   string
		levels []byte
	}{
		{"bit-packed group padded", []byte{1<<1 | 1, 0b11111}}, // 5 ones, 3 padding zeros
		{"RLE run past the page", rleRun(9, 1, 1)},
		{"RLE run of twice the page", rleRun(10, 1, 1)},
	} {
		col := craftColumn{format.Int32, true, 5, format.Uncompressed, []craftPage{
			{header: dataPageV1(5, format.Plain), body: concat(withLength(tt.levels), plainInt32s(5))}}}
		b := col.bytes(t)
		f, err := readParquetFrom(bytes.NewReader(b), int64(len(b)), ReadOptions{})
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		x, _ := f.Lookup("x")
		if want := []float64{0, 1, 2, 3, 4}; !slices.Equal(x.Num, want) {
			t.Errorf("%s: x = %v; want %v", tt.name, x.Num, want)
		}
	}
}

// TestReadParquetBitPackedRunCutShort: a bit-packed run whose bytes pass
// the end of its page is refused by both readers, and the same page with
// the run whole reads. parquet-go v0.32.1 unpacked such dictionary
// indices from past the page's end, up to its pooled buffer's capacity:
// in a fresh process the zeros there read as index 0 (the page below
// read as x = [0 0], values the file does not hold); in FuzzReadParquet,
// after other inputs, stale bytes made the whole read panic (an index out
// of the dictionary) while the block reader's rescan of the same bytes
// met the next column's error (testdata/fuzz/FuzzReadParquet/c50ea0273c8e5a74).
func TestReadParquetBitPackedRunCutShort(t *testing.T) {
	dict := craftPage{header: dictionaryPage(2), body: plainInt32s(2)}
	whole := []byte{2, 1<<1 | 1, 0b0100, 0} // bit width 2, one group of 8 indices: 0, 1, then padding
	cut := whole[:2]                        // the group's 2 bytes gone
	for _, tt := range []struct {
		name string
		col  craftColumn
		msg  string // "" to read x = [0 1]
	}{
		{"indices whole", craftColumn{format.Int32, false, 2, format.Uncompressed, []craftPage{
			dict, {header: dataPageV1(2, format.RLEDictionary), body: whole}}}, ""},
		{"indices cut", craftColumn{format.Int32, false, 2, format.Uncompressed, []craftPage{
			dict, {header: dataPageV1(2, format.RLEDictionary), body: cut}}},
			"page 1: dictionary indices: a bit-packed run of 8 values needs 2 bytes, 0 are left"},
		{"indices cut, v2 page", craftColumn{format.Int32, false, 2, format.Uncompressed, []craftPage{
			dict, {header: dataPageV2(2, format.RLEDictionary, 0), body: cut}}},
			"page 1: dictionary indices: a bit-packed run of 8 values needs 2 bytes, 0 are left"},
		{"levels cut", craftColumn{format.Int32, true, 2, format.Uncompressed, []craftPage{
			{header: dataPageV1(2, format.Plain), body: concat(withLength([]byte{1<<1 | 1}), plainInt32s(2))}}},
			"page 0: definition levels: a bit-packed run of 8 values needs 1 bytes, 0 are left"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.col.bytes(t)
			f, err := readParquetFrom(bytes.NewReader(b), int64(len(b)), ReadOptions{})
			if tt.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				if x, _ := f.Lookup("x"); !slices.Equal(x.Num, []float64{0, 1}) {
					t.Errorf("x = %v; want [0 1]", x.Num)
				}
			} else if want := `column "x": ` + tt.msg; !errors.Is(err, errCorrupt) || !strings.Contains(err.Error(), want) {
				t.Errorf("ReadParquet() error = %v; want a corrupt file with %q", err, want)
			}
			sameParquetBlocks(t, b, f, err)
		})
	}
}

// TestReadParquetRefusesPageBeyondDeclaredSize: a compressed page that
// decompresses to more bytes than its header declares is refused before
// the check of its runs keeps them (parquet-go would take it, however
// large), and one within its size is read.
func TestReadParquetRefusesPageBeyondDeclaredSize(t *testing.T) {
	body := concat(withLength(rleRun(8, 1, 1)), plainInt32s(8))
	for _, tt := range []struct {
		declared int
		err      string // "" for success
	}{
		{len(body), ""},
		{len(body) - 1, fmt.Sprintf(`column "x": page 0: GZIP page decompresses to more than its declared %d bytes`, len(body)-1)},
	} {
		col := craftColumn{format.Int32, true, 8, format.Gzip, []craftPage{
			{header: dataPageV1(8, format.Plain), body: body, declared: tt.declared}}}
		b := col.bytes(t)
		_, err := readParquetFrom(bytes.NewReader(b), int64(len(b)), ReadOptions{})
		if tt.err == "" && err != nil || tt.err != "" && (!errors.Is(err, errCorrupt) || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("page of %d bytes declared as %d: error = %v; want %q", len(body), tt.declared, err, tt.err)
		}
	}
}

// TestRunBombTestdata: testdata/run_bomb_*.parquet, seeds of
// FuzzReadParquet, are runBombs' files (go test -run
// TestRunBombTestdata -update-run-bombs rewrites them).
func TestRunBombTestdata(t *testing.T) {
	for _, bomb := range runBombs() {
		path := filepath.Join("testdata", "run_bomb_"+bomb.name+".parquet")
		b := bomb.col.bytes(t)
		if *updateRunBombs {
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, b) {
			t.Errorf("%s differs from runBombs' %s; rewrite it with -update-run-bombs", path, bomb.name)
		}
	}
}

// runBombSeeds returns the bytes of testdata/run_bomb_*.parquet.
func runBombSeeds(t testing.TB) [][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "run_bomb_*.parquet"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no run bomb seeds: %v", err)
	}
	seeds := make([][]byte, len(paths))
	for i, p := range paths {
		if seeds[i], err = os.ReadFile(p); err != nil {
			t.Fatal(err)
		}
	}
	return seeds
}
