package frame

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// craftColumn is the one column of a Parquet file made by hand, to write
// what no writer library would: pages whose RLE runs outgrow them.
type craftColumn struct {
	typ      format.Type
	optional bool
	rows     int64
	codec    format.CompressionCodec // SNAPPY, GZIP or UNCOMPRESSED
	pages    []craftPage             // a dictionary page first, if any
}

// craftPage is one page: its header without sizes, and its body before
// compression (for a v2 page, the levels are never compressed: levels
// bytes of body are kept as they are).
type craftPage struct {
	header   format.PageHeader
	body     []byte
	levels   int
	declared int // the uncompressed size its header declares; 0 for len(body)
}

// bytes returns the Parquet file: the pages, each with its sizes set,
// then the footer.
func (c craftColumn) bytes(t testing.TB) []byte {
	t.Helper()
	return c.bytesAs(t, c.typ)
}

// bytesAs is bytes with metaType as the chunk's type in its metadata,
// whatever the schema's.
func (c craftColumn) bytesAs(t testing.TB, metaType format.Type) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString("PAR1")
	var proto thrift.CompactProtocol
	meta := format.ColumnMetaData{Type: metaType, Encoding: []format.Encoding{format.Plain, format.RLE}, PathInSchema: []string{"x"},
		Codec: c.codec, NumValues: c.rows, DataPageOffset: int64(buf.Len())}
	for i, p := range c.pages {
		body := append(bytes.Clone(p.body[:p.levels]), compressed(t, c.codec, p.body[p.levels:])...)
		h := p.header
		h.UncompressedPageSize, h.CompressedPageSize = int32(len(p.body)), int32(len(body))
		if p.declared > 0 {
			h.UncompressedPageSize = int32(p.declared)
		}
		hb, err := thrift.Marshal(&proto, &h)
		if err != nil {
			t.Fatal(err)
		}
		if h.Type == format.DictionaryPage {
			meta.DictionaryPageOffset = int64(buf.Len())
		} else if i > 0 && c.pages[i-1].header.Type == format.DictionaryPage {
			meta.DataPageOffset = int64(buf.Len())
		}
		buf.Write(hb)
		buf.Write(body)
		meta.TotalCompressedSize += int64(len(hb) + len(body))
		meta.TotalUncompressedSize += int64(len(hb) + len(p.body))
	}
	rep := format.Required
	if c.optional {
		rep = format.Optional
	}
	md := format.FileMetaData{
		Version: 1,
		Schema: []format.SchemaElement{
			{Name: "schema", NumChildren: thrift.New[int32](1)},
			{Name: "x", Type: thrift.New(c.typ), RepetitionType: thrift.New(rep)},
		},
		NumRows: c.rows,
		RowGroups: []format.RowGroup{{Columns: []format.ColumnChunk{{FileOffset: meta.DataPageOffset, MetaData: meta}},
			TotalByteSize: meta.TotalUncompressedSize, NumRows: c.rows}},
	}
	mb, err := thrift.Marshal(&proto, &md)
	if err != nil {
		t.Fatal(err)
	}
	buf.Write(mb)
	buf.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(mb))))
	buf.WriteString("PAR1")
	return buf.Bytes()
}

// compressed returns b compressed with codec.
func compressed(t testing.TB, codec format.CompressionCodec, b []byte) []byte {
	switch codec {
	case format.Snappy:
		return snappy.Encode(nil, b)
	case format.Gzip:
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	return b
}

// dataPageV1 is a v1 data page header of n values in encoding e, its
// levels in RLE.
func dataPageV1(n int32, e format.Encoding) format.PageHeader {
	return format.PageHeader{Type: format.DataPage, DataPageHeader: thrift.New(format.DataPageHeader{
		NumValues: n, Encoding: e, DefinitionLevelEncoding: format.RLE, RepetitionLevelEncoding: format.RLE})}
}

// dataPageV2 is a v2 data page header of n values (no nulls) in
// encoding e, with defLen bytes of definition levels, not compressed.
func dataPageV2(n int32, e format.Encoding, defLen int) format.PageHeader {
	return format.PageHeader{Type: format.DataPageV2, DataPageHeaderV2: thrift.New(format.DataPageHeaderV2{
		NumValues: n, NumRows: n, Encoding: e, DefinitionLevelsByteLength: int32(defLen), IsCompressed: thrift.New(false)})}
}

// dictionaryPage is the header of a PLAIN dictionary page of n values.
func dictionaryPage(n int32) format.PageHeader {
	return format.PageHeader{Type: format.DictionaryPage, DictionaryPageHeader: thrift.New(format.DictionaryPageHeader{
		NumValues: n, Encoding: format.Plain})}
}

// rleRun is an RLE run of count copies of v, in the hybrid encoding's
// bytes for bitWidth.
func rleRun(count uint64, v byte, bitWidth int) []byte {
	b := binary.AppendUvarint(nil, count<<1)
	for range (bitWidth + 7) / 8 {
		b = append(b, v)
		v = 0
	}
	return b
}

// withLength prefixes b with its length, as v1 pages store levels.
func withLength(b []byte) []byte {
	return append(binary.LittleEndian.AppendUint32(nil, uint32(len(b))), b...)
}

// plainInt32s is n PLAIN INT32 values 0, 1, ...
func plainInt32s(n int) []byte {
	var b []byte
	for i := range n {
		b = binary.LittleEndian.AppendUint32(b, uint32(i))
	}
	return b
}

func concat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
