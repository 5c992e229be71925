package frame

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/format"
)

// TestReadParquetRefusesUnboundedRuns: pages whose RLE runs parquet-go
// decodes whatever the page's value count are refused, by both readers,
// before any value is decoded. rle_dictionary_page.parquet (1,336 bytes,
// found by FuzzReadParquet) took a minute and 6 GB of allocations to
// refuse, and stalled the fuzzer; the RLE int32 page is parquet-go's own
// writing, which the format does not allow (RLE is for booleans, levels
// and dictionary indices).
func TestReadParquetRefusesUnboundedRuns(t *testing.T) {
	for _, tt := range []struct{ name, path, msg string }{
		{"dictionary page in RLE", filepath.Join("testdata", "rle_dictionary_page.parquet"), "dictionary page in the RLE_DICTIONARY encoding"},
		{"int32 values in RLE", rleInt32File(t), "INT32 values in the RLE encoding"},
		{"int32 values in RLE, BOOLEAN in the chunk's metadata", booleanMetaFile(t), "INT32 values in the RLE encoding"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadFile(tt.path, ReadOptions{})
			if !errors.Is(err, errCorrupt) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("ReadFile(%s) error = %v; want a corrupt file with %q", tt.path, err, tt.msg)
			}
			_, berr := OpenParquetBlocks(tt.path, ReadOptions{})
			if berr == nil || err == nil || berr.Error() != err.Error() {
				t.Errorf("OpenParquetBlocks(%s) error = %v; ReadFile's %v", tt.path, berr, err)
			}
		})
	}
}

// TestReadParquetHeaderLengthBomb: a page header whose binary field (a
// statistic) claims 2 GiB in a 2.6 kB file (found by FuzzReadParquet)
// is refused as corrupt, by both readers, without allocating what it
// claims: parquet-go's stream decoder allocated the 2 GiB before finding
// the bytes missing, and zeroed them when the heap reused memory (2.1 GB
// resident, 2 s; the fuzzer's worker was killed).
func TestReadParquetHeaderLengthBomb(t *testing.T) {
	b := fuzzInput(t, "FuzzReadParquet", "b806f9fcda8d0be9")
	var fr *Frame
	var err error
	alloc := allocated(func() { fr, err = readParquetFrom(bytes.NewReader(b), int64(len(b)), ReadOptions{}) })
	if !errors.Is(err, errCorrupt) || !strings.Contains(err.Error(), "page 0 header") {
		t.Fatalf("ReadParquet error = %v; want a corrupt page header", err)
	}
	if alloc > 16<<20 {
		t.Errorf("refusing the file allocated %d bytes; want a few MiB at most", alloc)
	}
	sameParquetBlocks(t, b, fr, err)
}

// fuzzInput returns the []byte input of the fuzz target's corpus file
// name in testdata.
func fuzzInput(t *testing.T, target, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "fuzz", target, name))
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ := strings.Cut(string(raw), "\n")
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(body), "[]byte("), ")"))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(s)
}

// rleInt32File writes an INT32 column of 8 rows in the RLE encoding
// with parquet-go.
func rleInt32File(t *testing.T) string {
	t.Helper()
	schema := parquet.NewSchema("t", parquet.Group{"x": parquet.Encoded(parquet.Leaf(parquet.Int32Type), &rle.Encoding{BitWidth: 32})})
	var buf bytes.Buffer
	w := parquet.NewWriter(&buf, schema)
	rows := make([]parquet.Row, 8)
	for i := range rows {
		rows[i] = parquet.Row{parquet.Int32Value(int32(i%2)).Level(0, 0, 0)}
	}
	if _, err := w.WriteRows(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rle.parquet")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// booleanMetaFile writes an INT32 column whose page holds a run of 2^30
// values in the RLE encoding, and whose chunk's metadata says BOOLEAN:
// parquet-go decodes the page by the schema's type.
func booleanMetaFile(t *testing.T) string {
	t.Helper()
	col := craftColumn{format.Int32, false, 8, format.Uncompressed, []craftPage{
		{header: dataPageV1(8, format.RLE), body: withLength(rleRun(bombBytes/4, 1, 32))}}}
	path := filepath.Join(t.TempDir(), "boolean_meta.parquet")
	if err := os.WriteFile(path, col.bytesAs(t, format.Boolean), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
