package frame

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
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
