package frame

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go/format"
)

// claimBytes is a valid Parquet file whose one INT32 column holds
// pages×perPage copies of 7: a dictionary of one value, then pages of
// one RLE run of dictionary indices each, a dozen bytes a page however
// many rows it holds.
func claimBytes(t testing.TB, pages int, perPage int32) []byte {
	t.Helper()
	rows := int64(pages) * int64(perPage)
	col := craftColumn{typ: format.Int32, rows: rows, codec: format.Uncompressed,
		pages: []craftPage{{header: dictionaryPage(1), body: []byte{7, 0, 0, 0}}}}
	for range pages {
		col.pages = append(col.pages, craftPage{header: dataPageV1(perPage, format.RLEDictionary), body: concat([]byte{1}, rleRun(uint64(perPage), 0, 1))})
	}
	return col.bytes(t)
}

// claimFile writes claimBytes to a file and returns its path.
func claimFile(t testing.TB, pages int, perPage int32) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "claim.parquet")
	if err := os.WriteFile(path, claimBytes(t, pages, perPage), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// claimedRowsTestdata is a file of 512 pages of 2^31-1 rows, about 2^40
// rows (8 TiB of values) in 16 kB: more than any machine's memory, for
// tests of the default limit here and in the CLI.
var claimedRowsTestdata = filepath.Join("testdata", "claimed_rows.parquet")

// TestClaimedRowsTestdata: testdata/claimed_rows.parquet is claimBytes'
// file (go test -run TestClaimedRowsTestdata -update-run-bombs rewrites
// it).
func TestClaimedRowsTestdata(t *testing.T) {
	b := claimBytes(t, 512, math.MaxInt32)
	if *updateRunBombs {
		if err := os.WriteFile(claimedRowsTestdata, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(claimedRowsTestdata)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, b) {
		t.Errorf("%s differs from claimBytes' file; rewrite it with -update-run-bombs", claimedRowsTestdata)
	}
}

// TestReadParquetRefusesClaimedRows: a small file whose metadata claims,
// consistently, 2^31 rows of a constant column is refused by a whole
// read under a limit below its 16 GiB (2^31 float64 values), before any
// value is decoded, with an error naming the estimate and the limit;
// a block reader under the same limit reads it a block at a time, its
// pages of 2^20 values being far below the limit.
func TestReadParquetRefusesClaimedRows(t *testing.T) {
	path := claimFile(t, 2048, 1<<20)
	var err error
	alloc := allocated(func() { _, err = ReadFile(path, ReadOptions{MemoryLimit: 1 << 30}) })
	if !errors.Is(err, ErrMemoryLimit) {
		t.Fatalf("ReadFile() error = %v; want ErrMemoryLimit", err)
	}
	for _, want := range []string{"2147483648 rows and 1 column would take about 16.0 GiB,", "more than the read memory limit of 1.0 GiB", path} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ReadFile() error = %q; want it to say %q", err, want)
		}
	}
	if alloc > 16<<20 {
		t.Errorf("refusing the file allocated %d bytes; want a few MiB at most", alloc)
	}

	b, err := OpenParquetBlocks(path, ReadOptions{MemoryLimit: 1 << 30})
	if err != nil {
		t.Fatalf("OpenParquetBlocks() error = %v; a block reader holds a block, not the table", err)
	}
	defer b.Close()
	var f *Frame
	alloc = allocated(func() { f, err = b.Next(1000) })
	if err != nil {
		t.Fatal(err)
	}
	if x := f.Col(0).Num; len(x) != 1000 || x[0] != 7 || x[999] != 7 {
		t.Errorf("first block = %d values, %v ... %v; want 1000 sevens", len(x), x[0], x[len(x)-1])
	}
	if alloc > 16<<20 {
		t.Errorf("a block of 1000 rows allocated %d bytes; want a few MiB at most", alloc)
	}
}

// TestParquetBlocksRefuseClaimedPage: a block reader refuses a page of
// 2^30 values, which parquet-go would decode at once (4 bytes a value),
// under a limit below it, while holding a few MiB.
func TestParquetBlocksRefuseClaimedPage(t *testing.T) {
	path := claimFile(t, 2, 1<<30)
	var err error
	alloc := allocated(func() { _, err = OpenParquetBlocks(path, ReadOptions{MemoryLimit: 1 << 30}) })
	if !errors.Is(err, ErrMemoryLimit) || !strings.Contains(err.Error(), "a page of the file") {
		t.Errorf("OpenParquetBlocks() error = %v; want ErrMemoryLimit for a page", err)
	}
	if alloc > 16<<20 {
		t.Errorf("refusing the file allocated %d bytes; want a few MiB at most", alloc)
	}
}

// TestReadParquetDefaultLimitRefusesClaimedRows: without a limit set,
// the default one refuses a file claiming 2^40 rows (8 TiB of values,
// beyond any machine's memory).
func TestReadParquetDefaultLimitRefusesClaimedRows(t *testing.T) {
	_, err := ReadFile(claimedRowsTestdata, ReadOptions{})
	if !errors.Is(err, ErrMemoryLimit) || !strings.Contains(err.Error(), "(the default: half of the memory this process may use)") {
		t.Fatalf("ReadFile() error = %v; want ErrMemoryLimit under the default limit", err)
	}
}

// TestReadParquetMemoryLimit: a file reads under a limit above its
// estimate, or none, as it does under the default; a limit below its
// estimate refuses it.
func TestReadParquetMemoryLimit(t *testing.T) {
	path := filepath.Join("testdata", "alltypes_plain.parquet")
	want, err := ReadFile(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// 8 rows × 11 columns take under 1 KiB of values; its pages are
	// about as small.
	for _, limit := range []int64{1 << 20, NoMemoryLimit} {
		got, err := ReadFile(path, ReadOptions{MemoryLimit: limit})
		if err != nil {
			t.Fatalf("ReadFile(MemoryLimit %d) error = %v", limit, err)
		}
		if got.Hash() != want.Hash() {
			t.Errorf("ReadFile(MemoryLimit %d) read another table than under the default limit", limit)
		}
	}
	if _, err := ReadFile(path, ReadOptions{MemoryLimit: 100}); !errors.Is(err, ErrMemoryLimit) {
		t.Errorf("ReadFile(MemoryLimit 100) error = %v; want ErrMemoryLimit", err)
	}
}

// TestParquetBlocksRefuseLargePage: a block reader refuses a page that
// alone passes the limit (its declared uncompressed size, here 4 KiB of
// INT32 values), and reads it under a larger limit.
func TestParquetBlocksRefuseLargePage(t *testing.T) {
	col := craftColumn{typ: format.Int32, rows: 1024, codec: format.Gzip,
		pages: []craftPage{{header: dataPageV1(1024, format.Plain), body: plainInt32s(1024)}}}
	path := filepath.Join(t.TempDir(), "page.parquet")
	if err := os.WriteFile(path, col.bytes(t), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenParquetBlocks(path, ReadOptions{MemoryLimit: 4096}); !errors.Is(err, ErrMemoryLimit) || !strings.Contains(err.Error(), "a page of the file") {
		t.Errorf("OpenParquetBlocks(MemoryLimit 4096) error = %v; want ErrMemoryLimit for a page", err)
	}
	b, err := OpenParquetBlocks(path, ReadOptions{MemoryLimit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	rows := 0
	for {
		f, err := b.Next(100)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rows += f.NumRows()
	}
	if rows != 1024 {
		t.Errorf("read %d rows; want 1024", rows)
	}
}

// TestDefaultMemoryLimit: half of the least of the machine's memory, its
// cgroup's limit and GOMEMLIMIT; half of 16 GiB when nothing is known.
func TestDefaultMemoryLimit(t *testing.T) {
	const gib = 1 << 30
	meminfo := "MemTotal:       16777216 kB\nMemFree:         1024 kB\n" // 16 GiB
	for _, tt := range []struct {
		name    string
		files   map[string]string
		goLimit int64
		want    int64
	}{
		{"meminfo", map[string]string{"/proc/meminfo": meminfo}, math.MaxInt64, 8 * gib},
		{"nothing known", nil, math.MaxInt64, 8 * gib},
		{"cgroup v2 of the process", map[string]string{"/proc/meminfo": meminfo, "/proc/self/cgroup": "0::/app\n",
			"/sys/fs/cgroup/app/memory.max": "2147483648\n"}, math.MaxInt64, 1 * gib},
		{"cgroup v2 at the root", map[string]string{"/proc/meminfo": meminfo, "/proc/self/cgroup": "0::/docker/x\n",
			"/sys/fs/cgroup/memory.max": "4294967296\n"}, math.MaxInt64, 2 * gib},
		{"cgroup v2 max", map[string]string{"/proc/meminfo": meminfo, "/proc/self/cgroup": "0::/\n",
			"/sys/fs/cgroup/memory.max": "max\n"}, math.MaxInt64, 8 * gib},
		{"cgroup v1", map[string]string{"/proc/meminfo": meminfo, "/proc/self/cgroup": "4:memory:/job\n0::/\n",
			"/sys/fs/cgroup/memory/job/memory.limit_in_bytes": "1073741824\n"}, math.MaxInt64, gib / 2},
		{"cgroup v1 unlimited", map[string]string{"/proc/meminfo": meminfo, "/proc/self/cgroup": "4:memory:/job\n",
			"/sys/fs/cgroup/memory/job/memory.limit_in_bytes": "9223372036854771712\n"}, math.MaxInt64, 8 * gib},
		{"cgroup above the machine", map[string]string{"/proc/meminfo": meminfo, "/proc/self/cgroup": "0::/\n",
			"/sys/fs/cgroup/memory.max": "68719476736\n"}, math.MaxInt64, 8 * gib},
		{"GOMEMLIMIT", map[string]string{"/proc/meminfo": meminfo}, 6 * gib, 3 * gib},
	} {
		t.Run(tt.name, func(t *testing.T) {
			read := func(name string) ([]byte, error) {
				if s, ok := tt.files[name]; ok {
					return []byte(s), nil
				}
				return nil, os.ErrNotExist
			}
			if got := defaultMemoryLimit(read, tt.goLimit); got != tt.want {
				t.Errorf("defaultMemoryLimit() = %d; want %d", got, tt.want)
			}
		})
	}
}

// zeros is a CSV text of a header and rows rows of "0,0".
func zeros(rows int) []byte {
	return append([]byte("a,b\n"), bytes.Repeat([]byte("0,0\n"), rows)...)
}

// TestReadCSVGzipMemoryLimit: a gzip-compressed CSV file, a thousand
// times smaller than its text, is refused once the rows read pass the
// limit, having decoded a little more than the limit, not the file.
func TestReadCSVGzipMemoryLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zeros.csv.gz")
	// 1,000,000 rows of 2 cells: 2 bytes of text and 28 of estimate a
	// row, about 30 MB; the file is a few kilobytes.
	if err := os.WriteFile(path, gzipBytes(t, zeros(1_000_000)), 0o644); err != nil {
		t.Fatal(err)
	}
	var err error
	alloc := allocated(func() { _, err = ReadFile(path, ReadOptions{MemoryLimit: 1 << 20}) })
	if !errors.Is(err, ErrMemoryLimit) {
		t.Fatalf("ReadFile() error = %v; want ErrMemoryLimit", err)
	}
	for _, want := range []string{"the table passes the read memory limit of 1.0 MiB at row ", path} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ReadFile() error = %q; want it to say %q", err, want)
		}
	}
	if alloc > 8<<20 {
		t.Errorf("refusing the file allocated %d bytes; want a few MiB, far below the table's 30 MB", alloc)
	}
	f, err := ReadFile(path, ReadOptions{MemoryLimit: 64 << 20})
	if err != nil || f.NumRows() != 1_000_000 {
		t.Fatalf("ReadFile() under a limit above its 30 MB = %v; want its 1,000,000 rows", err)
	}
}

// TestReadCSVBytesMemoryLimit: ReadCSVBytes refuses what ReadCSV
// refuses, with its error, though it parses large inputs in pieces; under
// a larger limit, or none, both read the table the default limit reads.
func TestReadCSVBytesMemoryLimit(t *testing.T) {
	data := zeros(600_000) // 2.4 MB: ReadCSVBytes splits it on several CPUs
	_, want := ReadCSV(bytes.NewReader(data), ReadOptions{MemoryLimit: 1 << 20})
	if !errors.Is(want, ErrMemoryLimit) {
		t.Fatalf("ReadCSV() error = %v; want ErrMemoryLimit", want)
	}
	if _, err := ReadCSVBytes(data, ReadOptions{MemoryLimit: 1 << 20}); err == nil || err.Error() != want.Error() {
		t.Errorf("ReadCSVBytes() error = %v; want ReadCSV's %v", err, want)
	}
	def, err := ReadCSVBytes(data, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int64{64 << 20, NoMemoryLimit} {
		for name, read := range map[string]func() (*Frame, error){
			"ReadCSV":      func() (*Frame, error) { return ReadCSV(bytes.NewReader(data), ReadOptions{MemoryLimit: limit}) },
			"ReadCSVBytes": func() (*Frame, error) { return ReadCSVBytes(data, ReadOptions{MemoryLimit: limit}) },
		} {
			f, err := read()
			if err != nil || f.Hash() != def.Hash() {
				t.Errorf("%s(MemoryLimit %d) = %v; want the table read under the default limit", name, limit, err)
			}
		}
	}
}

// ids is a CSV text of rows rows of a distinct 7-byte ID and a 0..9
// number, or of 10 IDs repeated when distinct is false.
func ids(rows int, distinct bool) []byte {
	var b bytes.Buffer
	b.WriteString("id,x\n")
	for i := range rows {
		id := i
		if !distinct {
			id = i % 10
		}
		fmt.Fprintf(&b, "a%06d,%d\n", id, i%10)
	}
	return b.Bytes()
}

// TestReadCSVDistinctLabelsMemoryLimit: a column of distinct IDs takes
// several times the text csvBytes counts for it (each label its own
// string, slot in the levels and map entry), so a limit above the
// estimate (200,000 rows: 1.4 MB of text, 7 MB in all) but below what
// the read allocates is refused, by ReadCSV and ReadCSVBytes alike,
// naming the labels; the same table with 10 labels reads under it, and
// the IDs under a limit above what they take.
func TestReadCSVDistinctLabelsMemoryLimit(t *testing.T) {
	const rows, limit = 200_000, 12 << 20
	data := ids(rows, true)
	if est := csvBytes(len(data)-len("id,x\n")-2*rows, rows, 2); est > limit {
		t.Fatalf("estimate %.0f bytes passes the limit: the test needs one below it", est)
	}
	var f *Frame
	var err error
	alloc := allocated(func() { f, err = ReadCSV(bytes.NewReader(data), ReadOptions{MemoryLimit: 64 << 20}) })
	if err != nil || f.NumRows() != rows {
		t.Fatalf("ReadCSV() under 64 MiB = %v; want its %d rows", err, rows)
	}
	if alloc <= limit {
		t.Fatalf("reading the IDs allocated %d bytes; the test needs more than the limit of %d", alloc, limit)
	}
	for name, read := range map[string]func([]byte) (*Frame, error){
		"ReadCSV":      func(b []byte) (*Frame, error) { return ReadCSV(bytes.NewReader(b), ReadOptions{MemoryLimit: limit}) },
		"ReadCSVBytes": func(b []byte) (*Frame, error) { return ReadCSVBytes(b, ReadOptions{MemoryLimit: limit}) },
	} {
		_, err := read(data)
		if !errors.Is(err, ErrMemoryLimit) || !strings.Contains(err.Error(), `column "id"`) || !strings.Contains(err.Error(), "distinct labels") {
			t.Errorf("%s() of %d distinct IDs under %d bytes: error %v; want ErrMemoryLimit naming the labels of column id", name, rows, limit, err)
		}
		if f, err := read(ids(rows, false)); err != nil || f.NumRows() != rows {
			t.Errorf("%s() of 10 IDs under %d bytes = %v; want its %d rows", name, limit, err, rows)
		}
	}
}
