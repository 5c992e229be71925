package frame

import (
	"bytes"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
	"github.com/pierrec/lz4/v4"
)

// maxPageBytes bounds a page's declared uncompressed size (Parquet
// writers keep pages near 1 MB).
const maxPageBytes = 1 << 30

// checkLZ4Pages decompresses every page of the LZ4_RAW column chunks into
// the size its header declares. parquet-go (v0.32.1) retries an LZ4 block
// that does not fit with a buffer twice as large, without end, so one
// corrupt page would exhaust memory: a fatal error that no recover
// catches (FuzzReadParquet found it). A valid page fits its declared
// size at the first try, as it does in parquet-go.
func checkLZ4Pages(r io.ReaderAt, size int64, md *format.FileMetaData) error {
	for g, rg := range md.RowGroups {
		for j, cc := range rg.Columns {
			m := &cc.MetaData
			if m.Codec != format.Lz4Raw {
				continue
			}
			if err := checkLZ4Chunk(r, size, m); err != nil {
				return fmt.Errorf("%w: row group %d column %d: %w", errCorrupt, g, j, err)
			}
		}
	}
	return nil
}

func checkLZ4Chunk(r io.ReaderAt, size int64, m *format.ColumnMetaData) error {
	start := m.DataPageOffset
	if m.DictionaryPageOffset > 0 && m.DictionaryPageOffset < start {
		start = m.DictionaryPageOffset
	}
	n := m.TotalCompressedSize
	if start < 0 || n < 0 || start > size || n > size-start {
		return fmt.Errorf("chunk of %d bytes at %d outside the file's %d", n, start, size)
	}
	chunk := make([]byte, n)
	if _, err := r.ReadAt(chunk, start); err != nil {
		return err
	}
	var proto thrift.CompactProtocol
	br := bytes.NewReader(chunk)
	for br.Len() > 0 {
		var h format.PageHeader
		if err := thrift.NewDecoder(proto.NewReader(br)).Decode(&h); err != nil {
			return fmt.Errorf("page header: %w", err)
		}
		if h.CompressedPageSize < 0 || int64(h.CompressedPageSize) > int64(br.Len()) || h.UncompressedPageSize < 0 || h.UncompressedPageSize > maxPageBytes {
			return fmt.Errorf("page of %d bytes (%d uncompressed) in %d left", h.CompressedPageSize, h.UncompressedPageSize, br.Len())
		}
		body := make([]byte, h.CompressedPageSize)
		if _, err := io.ReadFull(br, body); err != nil {
			return err
		}
		want := int(h.UncompressedPageSize)
		if h.Type == format.DataPageV2 && h.DataPageHeaderV2.Valid {
			v2 := &h.DataPageHeaderV2.V
			levels := int(v2.DefinitionLevelsByteLength) + int(v2.RepetitionLevelsByteLength)
			if levels < 0 || levels > len(body) || levels > want {
				return fmt.Errorf("page levels of %d bytes in a page of %d", levels, len(body))
			}
			if v2.IsCompressed.Valid && !v2.IsCompressed.V {
				continue
			}
			body, want = body[levels:], want-levels
		}
		if h.Type != format.DataPage && h.Type != format.DataPageV2 && h.Type != format.DictionaryPage {
			continue // index pages are not read
		}
		if want == 0 && len(body) > 0 {
			want = 3 * len(body) // parquet-go's first guess without a size
		}
		if len(body) == 0 {
			continue
		}
		if _, err := lz4.UncompressBlock(body, make([]byte, want)); err != nil {
			return fmt.Errorf("LZ4 page does not decompress into its declared %d bytes: %w", want, err)
		}
	}
	return nil
}
