package frame

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
)

// Parquet physical types.
const (
	ptBoolean   = 0
	ptInt32     = 1
	ptInt64     = 2
	ptInt96     = 3
	ptFloat     = 4
	ptDouble    = 5
	ptByteArray = 6
	ptFixed     = 7
)

// Parquet encodings.
const (
	encPlain     = 0
	encPlainDict = 2
	encRLE       = 3
	encRLEDict   = 8
)

// Parquet compression codecs.
const (
	codecNone   = 0
	codecSnappy = 1
	codecGzip   = 2
)

// Parquet converted (legacy logical) types.
const (
	ctUTF8            = 0
	ctDecimal         = 5
	ctDate            = 6
	ctTimestampMillis = 9
	ctTimestampMicros = 10
	ctUint8           = 11
	ctUint64          = 14
)

// Parquet page types.
const (
	pageData   = 0
	pageDict   = 2
	pageDataV2 = 3
)

// Bounds that keep a corrupt or hostile file from making the reader
// allocate without limit: one page's decompressed size (1 GiB) and its
// number of values (16 Mi; writers use far smaller pages).
const (
	maxPageSize   = 1 << 30
	maxPageValues = 1 << 24
)

// julianUnixEpoch is the Julian day number of 1970-01-01, for INT96
// timestamps.
const julianUnixEpoch = 2440588

// ReadParquet reads a Parquet file with a flat schema. Column kinds follow
// the Parquet types: integers, decimals and floats are Numeric (nulls and
// NaN are missing), strings, binary, enums and booleans ("false"/"true")
// are Categorical, and DATE, TIMESTAMP (any unit) and legacy INT96 columns
// are Datetime. opts.Schema converts columns to other kinds through their
// text form (so an integer area code can be Categorical); opts.Missing is
// ignored, since Parquet marks missing values itself.
//
// The reader is self-contained (no cgo, no third-party code). It supports
// data page versions 1 and 2, PLAIN, dictionary and RLE-boolean
// encodings, and UNCOMPRESSED, SNAPPY and GZIP compression; files using
// another codec (ZSTD, LZ4, BROTLI) or encoding (DELTA_*, BYTE_STREAM_SPLIT),
// nested columns, FLOAT16 or encryption give an error wrapping
// ErrUnsupported. An infinite float is an error wrapping ErrInfinite, a
// file without rows wraps ErrNoRows.
func ReadParquet(path string, opts ReadOptions) (*Frame, error) {
	f, err := readParquet(path, opts)
	if err != nil {
		return nil, fmt.Errorf("frame: read %s: %w", path, err)
	}
	return f, nil
}

func readParquet(path string, opts ReadOptions) (*Frame, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	return readParquetFrom(fh, st.Size(), opts)
}

// readParquetFrom reads a Parquet file of the given size from r.
func readParquetFrom(r io.ReaderAt, size int64, opts ReadOptions) (*Frame, error) {
	meta, err := readFooter(r, size)
	if err != nil {
		return nil, err
	}
	elems, err := meta.structs(2)
	if err != nil {
		return nil, err
	}
	cols, err := parquetLeaves(elems)
	if err != nil {
		return nil, err
	}
	numRows, _ := meta.int(3)
	groups, err := meta.structs(4)
	if err != nil {
		return nil, err
	}
	for g, rg := range groups {
		chunks, err := rg.structs(1)
		if err != nil {
			return nil, err
		}
		if len(chunks) != len(cols) {
			return nil, fmt.Errorf("%w: row group %d has %d columns, schema %d", errCorrupt, g, len(chunks), len(cols))
		}
		rows := rg.intOr(3, -1)
		if rows < 0 || rows > numRows {
			return nil, fmt.Errorf("%w: row group %d has %d rows, file %d", errCorrupt, g, rows, numRows)
		}
		for j, c := range cols {
			before := c.len()
			if err := c.readChunk(r, size, chunks[j], rows); err != nil {
				return nil, fmt.Errorf("row group %d column %q: %w", g, c.name, err)
			}
			if int64(c.len()-before) != rows {
				return nil, fmt.Errorf("%w: row group %d column %q has %d values, want %d", errCorrupt, g, c.name, c.len()-before, rows)
			}
		}
	}
	out := make([]*Column, len(cols))
	for j, c := range cols {
		if int64(c.len()) != numRows {
			return nil, fmt.Errorf("%w: column %q has %d values, file has %d rows", errCorrupt, c.name, c.len(), numRows)
		}
		out[j] = c.column()
	}
	if numRows == 0 {
		return nil, ErrNoRows
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no columns", errCorrupt)
	}
	if err := checkSchemaNames(opts.Schema, out); err != nil {
		return nil, err
	}
	for j, c := range out {
		if k, ok := opts.Schema[c.Name]; ok {
			if out[j], err = convertColumn(c, k); err != nil {
				return nil, err
			}
		}
	}
	return New(out...)
}

var errCorrupt = errors.New("corrupt parquet file")

func readFooter(r io.ReaderAt, size int64) (tstruct, error) {
	if size < 12 {
		return nil, fmt.Errorf("not a parquet file: only %d bytes", size)
	}
	var head, tail [8]byte
	if _, err := r.ReadAt(head[:4], 0); err != nil {
		return nil, err
	}
	if _, err := r.ReadAt(tail[:], size-8); err != nil {
		return nil, err
	}
	if string(tail[4:]) == "PARE" {
		return nil, fmt.Errorf("%w: encrypted parquet", ErrUnsupported)
	}
	if string(head[:4]) != "PAR1" || string(tail[4:]) != "PAR1" {
		return nil, errors.New("not a parquet file: no PAR1 magic")
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n > size-12 {
		return nil, fmt.Errorf("%w: footer length %d exceeds file", errCorrupt, n)
	}
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, size-8-n); err != nil {
		return nil, err
	}
	meta, _, err := readStruct(buf)
	if err != nil {
		return nil, fmt.Errorf("footer: %w", err)
	}
	return meta, nil
}

// parquetLeaves describes the columns of a flat schema.
func parquetLeaves(elems []tstruct) ([]*pqColumn, error) {
	if len(elems) == 0 {
		return nil, fmt.Errorf("%w: empty schema", errCorrupt)
	}
	n := elems[0].intOr(5, 0)
	if n != int64(len(elems)-1) {
		return nil, fmt.Errorf("%w: nested schema (%d top-level fields, %d elements)", ErrUnsupported, n, len(elems)-1)
	}
	cols := make([]*pqColumn, n)
	for j, e := range elems[1:] {
		c := &pqColumn{name: e.str(4), index: map[string]int32{}}
		if e.intOr(5, 0) > 0 || e.intOr(3, 0) == 2 {
			return nil, fmt.Errorf("column %q: %w: nested or repeated field", c.name, ErrUnsupported)
		}
		if err := c.setType(e); err != nil {
			return nil, fmt.Errorf("column %q: %w", c.name, err)
		}
		cols[j] = c
	}
	return cols, nil
}

// pqColumn decodes one Parquet column into a Column.
type pqColumn struct {
	name     string
	phys     int64
	typeLen  int
	optional bool
	kind     Kind
	toFloat  func([]byte) float64 // Numeric and Datetime: one PLAIN value → float64
	width    int                  // bytes per PLAIN value; 0 for BYTE_ARRAY and BOOLEAN

	num    []float64
	codes  []int32
	levels []string
	index  map[string]int32

	dictNum  []float64 // dictionary of the current chunk
	dictCode []int32
}

func (c *pqColumn) len() int {
	if c.kind == Categorical {
		return len(c.codes)
	}
	return len(c.num)
}

func (c *pqColumn) column() *Column {
	if c.kind == Categorical {
		return sortLevels(NewCategorical(c.name, c.codes, c.levels))
	}
	return &Column{Name: c.name, Kind: c.kind, Num: c.num}
}

// setType chooses the kind and value conversion of schema element e.
func (c *pqColumn) setType(e tstruct) error {
	phys, ok := e.int(1)
	if !ok {
		return fmt.Errorf("%w: no physical type", errCorrupt)
	}
	c.phys = phys
	c.optional = e.intOr(3, 0) == 1
	c.typeLen = int(e.intOr(2, 0))
	conv := e.intOr(6, -1)
	logical, _ := e.sub(10)
	lt := func(id int16) (tstruct, bool) { return logical.sub(id) }
	scale := int(e.intOr(7, 0))
	dec, isDec := lt(5)
	if isDec {
		scale = int(dec.intOr(1, int64(scale)))
	}
	isDec = isDec || conv == ctDecimal
	unsigned := conv >= ctUint8 && conv <= ctUint64
	if it, ok := lt(10); ok {
		if signed, ok := it[2].(bool); ok {
			unsigned = !signed
		}
	}
	c.kind = Numeric
	pow := math.Pow10(scale)
	switch phys {
	case ptBoolean:
		c.kind = Categorical
	case ptInt32:
		c.width = 4
		_, isDate := lt(6)
		switch {
		case isDate || conv == ctDate:
			c.kind = Datetime
			c.toFloat = func(b []byte) float64 { return float64(int64(int32(binary.LittleEndian.Uint32(b))) * 86400) }
		case isDec:
			c.toFloat = func(b []byte) float64 { return float64(int32(binary.LittleEndian.Uint32(b))) / pow }
		case unsigned:
			c.toFloat = func(b []byte) float64 { return float64(binary.LittleEndian.Uint32(b)) }
		default:
			c.toFloat = func(b []byte) float64 { return float64(int32(binary.LittleEndian.Uint32(b))) }
		}
	case ptInt64:
		c.width = 8
		unit := int64(0) // nanoseconds per unit; 0 = not a timestamp
		if ts, ok := lt(8); ok {
			u, _ := ts.sub(2)
			switch {
			case u[1] != nil:
				unit = 1e6
			case u[2] != nil:
				unit = 1e3
			case u[3] != nil:
				unit = 1
			default:
				return fmt.Errorf("%w: timestamp unit", ErrUnsupported)
			}
		} else if conv == ctTimestampMillis {
			unit = 1e6
		} else if conv == ctTimestampMicros {
			unit = 1e3
		}
		switch {
		case unit > 0:
			c.kind = Datetime
			perSec := 1e9 / unit
			c.toFloat = func(b []byte) float64 {
				v := int64(binary.LittleEndian.Uint64(b))
				sec, rem := v/perSec, v%perSec
				if rem < 0 {
					sec, rem = sec-1, rem+perSec
				}
				return unixFloat(sec, rem*unit)
			}
		case isDec:
			c.toFloat = func(b []byte) float64 { return float64(int64(binary.LittleEndian.Uint64(b))) / pow }
		case unsigned:
			c.toFloat = func(b []byte) float64 { return float64(binary.LittleEndian.Uint64(b)) }
		default:
			c.toFloat = func(b []byte) float64 { return float64(int64(binary.LittleEndian.Uint64(b))) }
		}
	case ptInt96:
		c.width = 12
		c.kind = Datetime
		c.toFloat = func(b []byte) float64 {
			nanos := int64(binary.LittleEndian.Uint64(b))
			days := int64(int32(binary.LittleEndian.Uint32(b[8:])))
			sec, rem := nanos/1e9, nanos%1e9
			if rem < 0 {
				sec, rem = sec-1, rem+1e9
			}
			return unixFloat((days-julianUnixEpoch)*86400+sec, rem)
		}
	case ptFloat:
		c.width = 4
		c.toFloat = func(b []byte) float64 { return float64(math.Float32frombits(binary.LittleEndian.Uint32(b))) }
	case ptDouble:
		c.width = 8
		c.toFloat = func(b []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b)) }
	case ptByteArray, ptFixed:
		if phys == ptFixed {
			if c.typeLen <= 0 {
				return fmt.Errorf("%w: fixed-length type without length", errCorrupt)
			}
			c.width = c.typeLen
		}
		if _, ok := lt(15); ok {
			return fmt.Errorf("%w: FLOAT16", ErrUnsupported)
		}
		if isDec {
			c.toFloat = func(b []byte) float64 { return decimalFloat(b, scale) }
		} else {
			c.kind = Categorical
		}
	default:
		return fmt.Errorf("%w: physical type %d", errCorrupt, phys)
	}
	return nil
}

// decimalFloat converts a big-endian two's complement unscaled decimal.
func decimalFloat(b []byte, scale int) float64 {
	x := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	f, _ := new(big.Float).SetInt(x).Float64()
	return f / math.Pow10(scale)
}

// intern returns the code of label b, adding it as a level if new.
func (c *pqColumn) intern(b []byte) int32 {
	if code, ok := c.index[string(b)]; ok {
		return code
	}
	code := int32(len(c.levels))
	s := string(b)
	c.index[s] = code
	c.levels = append(c.levels, s)
	return code
}

// readChunk decodes one column chunk (all its pages) and appends the
// values.
func (c *pqColumn) readChunk(r io.ReaderAt, fileSize int64, cc tstruct, rows int64) error {
	if cc.str(1) != "" {
		return fmt.Errorf("%w: column data in external file %q", ErrUnsupported, cc.str(1))
	}
	md, ok := cc.sub(3)
	if !ok {
		return fmt.Errorf("%w: no column metadata", errCorrupt)
	}
	codec := md.intOr(4, 0)
	if codec != codecNone && codec != codecSnappy && codec != codecGzip {
		return fmt.Errorf("%w: compression codec %s", ErrUnsupported, codecName(codec))
	}
	numValues := md.intOr(5, 0)
	if numValues != rows {
		return fmt.Errorf("%w: chunk has %d values, row group %d rows", errCorrupt, numValues, rows)
	}
	size := md.intOr(7, -1)
	start := md.intOr(9, -1)
	if d, ok := md.int(11); ok && d > 0 && d < start {
		start = d
	}
	if start < 4 || size < 0 || start+size > fileSize-8 {
		return fmt.Errorf("%w: chunk bounds [%d, %d+%d) outside file", errCorrupt, start, start, size)
	}
	buf := make([]byte, size)
	if _, err := r.ReadAt(buf, start); err != nil {
		return err
	}
	c.dictNum, c.dictCode = nil, nil
	for read := int64(0); read < numValues; {
		ph, n, err := readStruct(buf)
		if err != nil {
			return fmt.Errorf("page header: %w", err)
		}
		buf = buf[n:]
		usize, csize := ph.intOr(2, -1), ph.intOr(3, -1)
		if csize < 0 || csize > int64(len(buf)) || usize < 0 || usize > maxPageSize {
			return fmt.Errorf("%w: page sizes %d/%d", errCorrupt, csize, usize)
		}
		page := buf[:csize]
		buf = buf[csize:]
		switch ph.intOr(1, -1) {
		case pageDict:
			h, _ := ph.sub(7)
			data, err := decompress(codec, page, usize)
			if err != nil {
				return err
			}
			if err := c.readDict(data, h.intOr(1, -1), h.intOr(2, encPlain)); err != nil {
				return fmt.Errorf("dictionary page: %w", err)
			}
		case pageData:
			h, _ := ph.sub(5)
			data, err := decompress(codec, page, usize)
			if err != nil {
				return err
			}
			nv := h.intOr(1, -1)
			if nv < 0 || nv > numValues-read || nv > maxPageValues {
				return fmt.Errorf("%w: page has %d values", errCorrupt, nv)
			}
			var levels []byte
			if c.optional {
				if len(data) < 4 {
					return fmt.Errorf("%w: truncated levels", errCorrupt)
				}
				ln := int64(binary.LittleEndian.Uint32(data))
				if ln > int64(len(data)-4) {
					return fmt.Errorf("%w: levels length %d", errCorrupt, ln)
				}
				levels, data = data[4:4+ln], data[4+ln:]
			}
			if err := c.readPage(data, levels, int(nv), h.intOr(2, -1)); err != nil {
				return err
			}
			read += nv
		case pageDataV2:
			h, _ := ph.sub(8)
			nv := h.intOr(1, -1)
			dl, rl := h.intOr(5, 0), h.intOr(6, 0)
			if nv < 0 || nv > numValues-read || nv > maxPageValues || dl < 0 || rl != 0 || dl > int64(len(page)) {
				return fmt.Errorf("%w: data page v2 header", errCorrupt)
			}
			levels, data := page[:dl], page[dl:]
			if compressed, ok := h[7].(bool); !ok || compressed {
				if data, err = decompress(codec, data, usize-dl); err != nil {
					return err
				}
			}
			if !c.optional {
				levels = nil
			}
			if err := c.readPage(data, levels, int(nv), h.intOr(4, -1)); err != nil {
				return err
			}
			read += nv
		}
	}
	return nil
}

func codecName(codec int64) string {
	names := []string{"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"}
	if codec >= 0 && codec < int64(len(names)) {
		return names[codec]
	}
	return fmt.Sprintf("%d", codec)
}

func decompress(codec int64, page []byte, usize int64) ([]byte, error) {
	var out []byte
	var err error
	switch codec {
	case codecNone:
		out = page
	case codecSnappy:
		out, err = snappyDecode(page, int(usize))
	case codecGzip:
		var zr *gzip.Reader
		if zr, err = gzip.NewReader(bytes.NewReader(page)); err == nil {
			out, err = io.ReadAll(io.LimitReader(zr, usize+1))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("decompress %s page: %w", codecName(codec), err)
	}
	if int64(len(out)) != usize {
		return nil, fmt.Errorf("%w: page is %d bytes, header says %d", errCorrupt, len(out), usize)
	}
	return out, nil
}

// readDict decodes a dictionary page of n PLAIN values.
func (c *pqColumn) readDict(data []byte, n, enc int64) error {
	if enc != encPlain && enc != encPlainDict {
		return fmt.Errorf("%w: dictionary encoding %d", ErrUnsupported, enc)
	}
	if n < 0 || n > int64(len(data))*8+1 {
		return fmt.Errorf("%w: dictionary size %d", errCorrupt, n)
	}
	if c.kind == Categorical {
		c.dictCode = make([]int32, n)
		_, err := c.plainCodes(c.dictCode, data)
		return err
	}
	c.dictNum = make([]float64, n)
	return c.plainFloats(c.dictNum, data)
}

// plainCodes decodes len(dst) PLAIN labels into codes.
func (c *pqColumn) plainCodes(dst []int32, data []byte) ([]byte, error) {
	for i := range dst {
		switch {
		case c.phys == ptBoolean:
			if i/8 >= len(data) {
				return nil, fmt.Errorf("%w: truncated booleans", errCorrupt)
			}
			dst[i] = c.boolCode(data[i/8]>>(i%8)&1 == 1)
		case c.width > 0:
			if len(data) < c.width {
				return nil, fmt.Errorf("%w: truncated values", errCorrupt)
			}
			dst[i] = c.intern(data[:c.width])
			data = data[c.width:]
		default:
			if len(data) < 4 {
				return nil, fmt.Errorf("%w: truncated values", errCorrupt)
			}
			n := int64(binary.LittleEndian.Uint32(data))
			if n > int64(len(data)-4) {
				return nil, fmt.Errorf("%w: byte array length %d", errCorrupt, n)
			}
			dst[i] = c.intern(data[4 : 4+n])
			data = data[4+n:]
		}
	}
	return data, nil
}

func (c *pqColumn) boolCode(v bool) int32 {
	if v {
		return c.intern([]byte("true"))
	}
	return c.intern([]byte("false"))
}

// plainFloats decodes len(dst) PLAIN numbers or datetimes.
func (c *pqColumn) plainFloats(dst []float64, data []byte) error {
	if c.width == 0 { // BYTE_ARRAY decimal
		for i := range dst {
			if len(data) < 4 {
				return fmt.Errorf("%w: truncated values", errCorrupt)
			}
			n := int64(binary.LittleEndian.Uint32(data))
			if n > int64(len(data)-4) {
				return fmt.Errorf("%w: byte array length %d", errCorrupt, n)
			}
			dst[i] = c.toFloat(data[4 : 4+n])
			data = data[4+n:]
		}
		return nil
	}
	if len(data) < len(dst)*c.width {
		return fmt.Errorf("%w: truncated values", errCorrupt)
	}
	for i := range dst {
		dst[i] = c.toFloat(data[i*c.width:])
	}
	return nil
}

// readPage decodes a data page of nv values (nulls included) and appends
// them. levels holds the RLE/bit-packed definition levels of an optional
// column, nil for a required one.
func (c *pqColumn) readPage(data, levels []byte, nv int, enc int64) error {
	present := make([]uint32, nv)
	nonNull := nv
	if levels != nil {
		if err := decodeHybrid(present, levels, 1); err != nil {
			return fmt.Errorf("definition levels: %w", err)
		}
		nonNull = 0
		for _, p := range present {
			nonNull += int(p)
		}
	} else {
		for i := range present {
			present[i] = 1
		}
	}
	var codes []int32
	var vals []float64
	if c.kind == Categorical {
		codes = make([]int32, nonNull)
	} else {
		vals = make([]float64, nonNull)
	}
	switch enc {
	case encPlain:
		if codes != nil {
			if _, err := c.plainCodes(codes, data); err != nil {
				return err
			}
		} else if err := c.plainFloats(vals, data); err != nil {
			return err
		}
	case encPlainDict, encRLEDict:
		if len(data) == 0 && nonNull > 0 {
			return fmt.Errorf("%w: empty dictionary indices", errCorrupt)
		}
		idx := make([]uint32, nonNull)
		if nonNull > 0 {
			if err := decodeHybrid(idx, data[1:], int(data[0])); err != nil {
				return fmt.Errorf("dictionary indices: %w", err)
			}
		}
		for i, k := range idx {
			switch {
			case codes != nil && int(k) < len(c.dictCode):
				codes[i] = c.dictCode[k]
			case codes == nil && int(k) < len(c.dictNum):
				vals[i] = c.dictNum[k]
			default:
				return fmt.Errorf("%w: dictionary index %d out of range", errCorrupt, k)
			}
		}
	case encRLE:
		if c.phys != ptBoolean || len(data) < 4 {
			return fmt.Errorf("%w: RLE encoding for physical type %d", ErrUnsupported, c.phys)
		}
		bits := make([]uint32, nonNull)
		if err := decodeHybrid(bits, data[4:], 1); err != nil {
			return err
		}
		for i, b := range bits {
			codes[i] = c.boolCode(b == 1)
		}
	default:
		return fmt.Errorf("%w: encoding %d", ErrUnsupported, enc)
	}
	k := 0
	for _, p := range present {
		if codes != nil {
			code := int32(-1)
			if p == 1 {
				code = codes[k]
				k++
			}
			c.codes = append(c.codes, code)
			continue
		}
		v := math.NaN()
		if p == 1 {
			v = vals[k]
			k++
			if math.IsInf(v, 0) {
				return &ParseError{Row: len(c.num) + 1, Column: c.name, Err: ErrInfinite}
			}
		}
		c.num = append(c.num, v)
	}
	return nil
}

// decodeHybrid decodes len(dst) values of the given bit width from the
// Parquet RLE/bit-packing hybrid encoding.
func decodeHybrid(dst []uint32, data []byte, width int) error {
	if width < 0 || width > 32 {
		return fmt.Errorf("%w: bit width %d", errCorrupt, width)
	}
	for i := 0; i < len(dst); {
		h, n := binary.Uvarint(data)
		if n <= 0 {
			return fmt.Errorf("%w: truncated run", errCorrupt)
		}
		data = data[n:]
		if h&1 == 0 { // RLE run
			nb := (width + 7) / 8
			if len(data) < nb {
				return fmt.Errorf("%w: truncated run", errCorrupt)
			}
			var v uint32
			for b := nb - 1; b >= 0; b-- {
				v = v<<8 | uint32(data[b])
			}
			data = data[nb:]
			count := min(h>>1, uint64(len(dst)-i))
			for range count {
				dst[i] = v
				i++
			}
			continue
		}
		count := min((h>>1)*8, uint64(len(dst)-i)) // bit-packed run
		if h>>1 > uint64(len(data)) {              // guards the multiplication below
			count = min(count, uint64(len(data))*8)
		}
		need := (int(count)*width + 7) / 8
		if need > len(data) || (count == 0 && h>>1 > 0 && width > 0) {
			return fmt.Errorf("%w: truncated bit-packed run", errCorrupt)
		}
		var bit uint
		for range count {
			var v uint32
			for b := range width {
				if data[bit/8]>>(bit%8)&1 == 1 {
					v |= 1 << b
				}
				bit++
			}
			dst[i] = v
			i++
		}
		if groups := h >> 1; groups >= uint64(len(data)) {
			data = data[len(data):]
		} else {
			data = data[min(int(groups)*width, len(data)):]
		}
	}
	return nil
}
