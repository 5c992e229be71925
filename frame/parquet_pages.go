package frame

import (
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
	"github.com/pierrec/lz4/v4"
)

// maxPageBytes bounds a page's declared uncompressed size (Parquet
// writers keep pages near 1 MB).
const maxPageBytes = 1 << 30

// checkPages reads the page headers of every column chunk before any
// value is decoded, and refuses pages parquet-go (v0.32.1) would expand
// without bound, which no recover can stop (a fatal out of memory, or
// minutes of allocating: FuzzReadParquet found both):
//
//   - values in the RLE encoding, in a column that is not BOOLEAN: the
//     format uses RLE for booleans, levels and dictionary indices only,
//     and parquet-go decodes every run whatever the page's value count,
//     so a run header of a few bytes asks for up to 8 GB (a 1.3 kB file
//     took a minute and 6 GB to refuse);
//   - a dictionary page in another encoding than PLAIN (PLAIN_DICTIONARY
//     in old files), which the format requires, for the same reason;
//   - runs in the encodings that must use them (definition levels,
//     dictionary indices, RLE booleans) that hold more values than their
//     page (checkRuns), and a data page of more values than its row group
//     has rows left or a dictionary page of more than its bytes hold, for
//     which parquet-go allocates before decoding;
//   - an LZ4_RAW page that does not decompress into the size its header
//     declares: parquet-go retries an LZ4 block that does not fit with a
//     buffer twice as large, without end. A valid page fits its declared
//     size at the first try, as it does in parquet-go.
//
// The schema is flat (flatColumns): leaves and names are its columns.
// It returns the pages' sizes, for the memory a read takes.
func checkPages(r io.ReaderAt, size int64, md *format.FileMetaData, leaves []format.SchemaElement, names []string) (*pageSizes, error) {
	var in inflater
	defer in.close()
	sizes := &pageSizes{column: make([]int64, len(leaves))}
	for g, rg := range md.RowGroups {
		if len(rg.Columns) != len(leaves) {
			return nil, fmt.Errorf("%w: row group %d has %d columns, schema %d", errCorrupt, g, len(rg.Columns), len(leaves))
		}
		for j, cc := range rg.Columns {
			c := chunkColumn{typ: leaves[j].Type.V, optional: leaves[j].RepetitionType.V == format.Optional, rows: rg.NumRows}
			k := chunkCheck{r: r, codec: cc.MetaData.Codec, col: c, in: &in, sizes: sizes, j: j}
			if err := k.chunk(size, &cc.MetaData); err != nil {
				return nil, fmt.Errorf("%w: row group %d column %q: %w", errCorrupt, g, names[j], err)
			}
		}
	}
	return sizes, nil
}

// pageSizes is what checkPages learns of the pages' sizes: each column's
// uncompressed bytes, which bound the text of its labels, and the most
// one page takes while parquet-go decodes it.
type pageSizes struct {
	column  []int64
	largest int64
}

// pageValueBytes is what parquet-go allocates per value of a page it
// decodes, beyond the page's bytes, with room to spare: it decodes a
// page's dictionary indices (4 bytes each) and definition levels (1
// byte) all at once (a page of 2^30 one-byte RLE runs of indices took
// 4.4 GB), which no block size bounds.
const pageValueBytes = 8

// add counts the page h of column j: its body as stored and
// uncompressed, and its values as decoded.
func (s *pageSizes) add(j int, h *format.PageHeader) {
	s.column[j] += int64(h.UncompressedPageSize)
	n, _ := dataPageValues(h)
	if h.Type == format.DictionaryPage && h.DictionaryPageHeader.Valid {
		n = int64(h.DictionaryPageHeader.V.NumValues)
	}
	s.largest = max(s.largest, int64(h.CompressedPageSize)+int64(h.UncompressedPageSize)+pageValueBytes*max(n, 0))
}

// chunk checks the pages of the column chunk m of a file of size bytes;
// it reads their headers, and the bodies of the pages page needs.
func (k *chunkCheck) chunk(size int64, m *format.ColumnMetaData) error {
	start := m.DataPageOffset
	if m.DictionaryPageOffset > 0 && m.DictionaryPageOffset < start {
		start = m.DictionaryPageOffset
	}
	n := m.TotalCompressedSize
	if start < 0 || n < 0 || start > size || n > size-start {
		return fmt.Errorf("chunk of %d bytes at %d outside the file's %d", n, start, size)
	}
	for p, off := 0, int64(0); off < n; p++ {
		h, hn, err := k.header(start+off, n-off)
		if err != nil {
			return fmt.Errorf("page %d header: %w", p, err)
		}
		off += hn
		left := n - off
		if h.CompressedPageSize < 0 || int64(h.CompressedPageSize) > left || h.UncompressedPageSize < 0 || h.UncompressedPageSize > maxPageBytes {
			return fmt.Errorf("page %d of %d bytes (%d uncompressed) in %d left", p, h.CompressedPageSize, h.UncompressedPageSize, left)
		}
		k.sizes.add(k.j, &h)
		if err := k.page(start+off, &h); err != nil {
			return fmt.Errorf("page %d: %w", p, err)
		}
		off += int64(h.CompressedPageSize)
	}
	return nil
}

// maxHeaderBytes bounds a page header, as in Arrow C++ (whose default
// is 16 MiB): statistics of a value or two make headers of tens of bytes.
const maxHeaderBytes = 16 << 20

// header decodes the page header at off, followed by left bytes of its
// chunk, and returns it with its length. It decodes from a window of the
// chunk, doubled while the header does not fit, never from a stream:
// parquet-go's stream decoder allocates a binary field's length before
// reading it, so a length prefix of 5 bytes claiming 2 GiB allocated
// 2 GiB (FuzzReadParquet found a 2.6 kB file that took 2 GB resident,
// or killed the fuzzer's worker). The header h may alias k's buffer.
func (k *chunkCheck) header(off, left int64) (h format.PageHeader, n int64, err error) {
	var proto thrift.CompactProtocol
	window := min(left, 1<<10)
	for {
		if int64(cap(k.buf)) < window {
			k.buf = make([]byte, window)
		}
		buf := k.buf[:window]
		if got, err := k.r.ReadAt(buf, off); got < len(buf) {
			return h, 0, err
		}
		h = format.PageHeader{}
		rd := proto.NewReaderFromBytes(buf)
		err = thrift.NewDecoder(rd).Decode(&h)
		switch {
		case err == nil:
			return h, int64(rd.BytesRead()), nil
		case window == left:
			return h, 0, err
		case window == maxHeaderBytes:
			return h, 0, fmt.Errorf("not within %d bytes: %w", window, err)
		}
		window = min(2*window, left, maxHeaderBytes)
	}
}

// chunkCheck checks the pages of one column chunk in turn.
type chunkCheck struct {
	buf    []byte // for page headers
	r      io.ReaderAt
	codec  format.CompressionCodec
	col    chunkColumn
	values int64 // in the data pages so far
	in     *inflater
	sizes  *pageSizes // where the pages' sizes are added up
	j      int        // the chunk's column
}

// page checks the page h, whose body is at off.
func (k *chunkCheck) page(off int64, h *format.PageHeader) error {
	if err := checkPageEncoding(h, k.col.typ); err != nil {
		return err
	}
	if h.Type == format.DictionaryPage && h.DictionaryPageHeader.Valid {
		// parquet-go sizes the dictionary by its count before decoding it
		if n := int64(h.DictionaryPageHeader.V.NumValues); n*plainBits(k.col.typ) > 8*int64(h.UncompressedPageSize) {
			return fmt.Errorf("dictionary of %d %s values in %d bytes", n, k.col.typ, h.UncompressedPageSize)
		}
	}
	if n, ok := dataPageValues(h); ok {
		if n < 0 || n > k.col.rows-k.values {
			return fmt.Errorf("%d values; the row group has %d rows, %d in earlier pages", n, k.col.rows, k.values)
		}
		k.values += n
	}
	runs := k.col.needsRuns(h)
	if !runs && k.codec != format.Lz4Raw {
		return nil
	}
	body, err := k.in.read(k.r, off, int(h.CompressedPageSize))
	if err != nil {
		return err
	}
	if k.codec == format.Lz4Raw {
		if err := checkLZ4Page(h, body); err != nil {
			return err
		}
	}
	if !runs {
		return nil
	}
	return checkRuns(h, body, k.codec, k.col, k.in)
}

// plainBits returns the fewest bits a PLAIN value of type t takes (a
// BYTE_ARRAY's length prefix, a byte for a FIXED_LEN_BYTE_ARRAY).
func plainBits(t format.Type) int64 {
	switch t {
	case format.Boolean:
		return 1
	case format.Int32, format.Float, format.ByteArray:
		return 32
	case format.Int64, format.Double:
		return 64
	case format.Int96:
		return 96
	}
	return 8
}

// dataPageValues returns the values of the data page h, nulls included.
func dataPageValues(h *format.PageHeader) (int64, bool) {
	switch {
	case h.Type == format.DataPage && h.DataPageHeader.Valid:
		return int64(h.DataPageHeader.V.NumValues), true
	case h.Type == format.DataPageV2 && h.DataPageHeaderV2.Valid:
		return int64(h.DataPageHeaderV2.V.NumValues), true
	}
	return 0, false
}

// checkPageEncoding refuses a page of a column of physical type t whose
// encoding parquet-go would decode without bound (see checkPages).
func checkPageEncoding(h *format.PageHeader, t format.Type) error {
	switch {
	case h.Type == format.DictionaryPage && h.DictionaryPageHeader.Valid:
		if e := h.DictionaryPageHeader.V.Encoding; e != format.Plain && e != format.PlainDictionary {
			return fmt.Errorf("dictionary page in the %s encoding; dictionaries are PLAIN", e)
		}
	case h.Type == format.DataPage && h.DataPageHeader.Valid:
		if h.DataPageHeader.V.Encoding == format.RLE && t != format.Boolean {
			return fmt.Errorf("%s values in the RLE encoding, which only BOOLEAN values use", t)
		}
	case h.Type == format.DataPageV2 && h.DataPageHeaderV2.Valid:
		if h.DataPageHeaderV2.V.Encoding == format.RLE && t != format.Boolean {
			return fmt.Errorf("%s values in the RLE encoding, which only BOOLEAN values use", t)
		}
	}
	return nil
}

// checkLZ4Page decompresses an LZ4_RAW page body into the size its
// header h declares.
func checkLZ4Page(h *format.PageHeader, body []byte) error {
	want := int(h.UncompressedPageSize)
	if h.Type == format.DataPageV2 && h.DataPageHeaderV2.Valid {
		v2 := &h.DataPageHeaderV2.V
		levels := int(v2.DefinitionLevelsByteLength) + int(v2.RepetitionLevelsByteLength)
		if levels < 0 || levels > len(body) || levels > want {
			return fmt.Errorf("page levels of %d bytes in a page of %d", levels, len(body))
		}
		if v2.IsCompressed.Valid && !v2.IsCompressed.V {
			return nil
		}
		body, want = body[levels:], want-levels
	}
	if h.Type != format.DataPage && h.Type != format.DataPageV2 && h.Type != format.DictionaryPage {
		return nil // index pages are not read
	}
	if want == 0 && len(body) > 0 {
		want = 3 * len(body) // parquet-go's first guess without a size
	}
	if len(body) == 0 {
		return nil
	}
	if _, err := lz4.UncompressBlock(body, make([]byte, want)); err != nil {
		return fmt.Errorf("LZ4 page does not decompress into its declared %d bytes: %w", want, err)
	}
	return nil
}
