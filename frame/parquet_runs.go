package frame

import (
	"encoding/binary"
	"fmt"

	"github.com/parquet-go/parquet-go/format"
)

// chunkColumn is what checkPages needs to know of a column chunk's
// column: parquet-go decodes definition levels only for an optional
// column (the schema is flat: no repetition levels), and its type decides
// whether RLE values are allowed.
type chunkColumn struct {
	typ      format.Type
	optional bool
	rows     int64 // of the row group
}

// needsRuns reports whether parquet-go decodes RLE/bit-packed hybrid runs
// in the data page h of column c: definition levels (in v2 pages only if
// they take bytes), dictionary indices, or RLE booleans.
func (c chunkColumn) needsRuns(h *format.PageHeader) bool {
	switch {
	case h.Type == format.DataPage && h.DataPageHeader.Valid:
		return c.optional || valueRuns(h.DataPageHeader.V.Encoding, c.typ)
	case h.Type == format.DataPageV2 && h.DataPageHeaderV2.Valid:
		v2 := &h.DataPageHeaderV2.V
		return c.optional && v2.DefinitionLevelsByteLength > 0 || valueRuns(v2.Encoding, c.typ)
	}
	return false
}

// valueRuns reports whether values of type t in encoding e are hybrid
// runs.
func valueRuns(e format.Encoding, t format.Type) bool {
	return e == format.PlainDictionary || e == format.RLEDictionary || e == format.RLE && t == format.Boolean
}

// checkRuns refuses the data page h of column c, body as stored in the
// file (compressed with codec), when the runs parquet-go would decode
// hold far more values than the page: parquet-go expands every run, up
// to 2^31 values each, before it cuts the result to the page's count, so
// a run header of five bytes costs gigabytes. Runs may pass the page's
// count within runSlack, as real writers' do. A bit-packed run cut
// short is refused (writers pad the last group to 8 values). A page
// parquet-go would refuse for another reason (an RLE run cut short, a bad
// bit width) is left to it, once its runs so far are within bounds.
func checkRuns(h *format.PageHeader, body []byte, codec format.CompressionCodec, c chunkColumn, in *inflater) error {
	if h.Type == format.DataPage {
		v1 := &h.DataPageHeader.V
		data, err := in.inflate(codec, body, int(h.UncompressedPageSize))
		if err != nil {
			return err
		}
		if c.optional {
			levels, rest, ok := lengthPrefixed(data)
			if !ok {
				return nil
			}
			if v1.DefinitionLevelEncoding == format.RLE { // BIT_PACKED levels have no runs
				if err := checkHybrid("definition levels", levels, 1, v1.NumValues); err != nil {
					return err
				}
			}
			data = rest
		}
		return checkValueRuns(v1.Encoding, c.typ, data, v1.NumValues)
	}
	v2 := &h.DataPageHeaderV2.V
	rep, def := int(v2.RepetitionLevelsByteLength), int(v2.DefinitionLevelsByteLength)
	if rep < 0 || def < 0 || rep+def > len(body) || rep+def > int(h.UncompressedPageSize) {
		return fmt.Errorf("levels of %d bytes in a page of %d", rep+def, len(body))
	}
	if c.optional && def > 0 {
		if err := checkHybrid("definition levels", body[rep:rep+def], 1, v2.NumValues); err != nil {
			return err
		}
	}
	if !valueRuns(v2.Encoding, c.typ) {
		return nil
	}
	data := body[rep+def:]
	if !v2.IsCompressed.Valid || v2.IsCompressed.V {
		var err error
		if data, err = in.inflate(codec, data, int(h.UncompressedPageSize)-rep-def); err != nil {
			return err
		}
	}
	return checkValueRuns(v2.Encoding, c.typ, data, v2.NumValues)
}

// checkValueRuns checks the runs of a page's values, data, in encoding e
// (see checkRuns).
func checkValueRuns(e format.Encoding, t format.Type, data []byte, numValues int32) error {
	switch {
	case e == format.PlainDictionary || e == format.RLEDictionary:
		if len(data) == 0 || data[0] > 32 {
			return nil
		}
		return checkHybrid("dictionary indices", data[1:], int(data[0]), numValues)
	case e == format.RLE && t == format.Boolean:
		if bits, _, ok := lengthPrefixed(data); ok {
			return checkHybrid("BOOLEAN values", bits, 1, numValues)
		}
	}
	return nil
}

// checkHybrid walks the run headers of b, what in the RLE/bit-packed
// hybrid encoding of bitWidth, and refuses runs that hold more than
// runSlack(numValues) values. It reads no value: its cost is one step per
// run, each at least a byte.
func checkHybrid(what string, b []byte, bitWidth int, numValues int32) error {
	left := runSlack(numValues)
	for i := 0; i < len(b); {
		u, n := binary.Uvarint(b[i:])
		if n <= 0 {
			return nil // parquet-go refuses a header cut short or too long
		}
		i += n
		count, size := u>>1, uint64(bitWidth+7)/8
		if u&1 == 1 { // count groups of 8 values, bitWidth bytes each
			if count > left/8 {
				return fmt.Errorf("%s: runs of far more values than the page's %d", what, numValues)
			}
			count, size = count*8, count*uint64(bitWidth)
		}
		if count > left {
			return fmt.Errorf("%s: runs of far more values than the page's %d", what, numValues)
		}
		left -= count
		if size > uint64(len(b)-i) {
			if u&1 == 1 {
				// parquet-go unpacks dictionary indices of a bit-packed
				// run from bytes past the page's end, up to its pooled
				// buffer's capacity: stale bytes of another page give
				// wrong values, a panic, or another error, depending on
				// what was read before.
				return fmt.Errorf("%s: a bit-packed run of %d values needs %d bytes, %d are left", what, count, size, len(b)-i)
			}
			return nil // an RLE run cut short: parquet-go refuses it
		}
		i += int(size)
	}
	return nil
}

// runSlack bounds the values a page's runs may hold. Writers overshoot a
// page's count a little (runs of 17 values in a page of 16, 1,001 in
// 1,000, 44,292 in 44,288 in parquet-go's own test files, which a bound
// of the count rounded up to 8 refused), while the pages worth refusing
// claim billions: twice the count and 1,024 more keeps every real file
// and bounds what parquet-go allocates to a small multiple of the page.
func runSlack(numValues int32) uint64 {
	return 2*uint64(max(numValues, 0)) + 1024
}

// lengthPrefixed splits b into the block its 4-byte little-endian length
// prefix announces and the rest, as v1 pages store levels and RLE
// booleans; ok is false when b is too short for it.
func lengthPrefixed(b []byte) (block, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, b, false
	}
	n := uint64(binary.LittleEndian.Uint32(b))
	if n > uint64(len(b)-4) {
		return nil, b, false
	}
	return b[4 : 4+n], b[4+n:], true
}
