package frame

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"unicode/utf8"
)

// pageRows is the number of rows per data page the writer emits.
const pageRows = 1 << 16

// WriteParquet writes f to path as an uncompressed Parquet file with one
// row group, replacing any existing file atomically (the data goes to a
// temporary file in the same directory, which is synced and renamed).
//
// Every column is OPTIONAL, with missing values as nulls: Numeric columns
// are DOUBLE; Categorical columns are dictionary-encoded BYTE_ARRAY,
// annotated as STRING when every level is valid UTF-8; Datetime columns
// are INT64 TIMESTAMP (UTC) in the coarsest unit of milli-, micro- or
// nanoseconds that holds every value exactly. ReadParquet (or ReadFile)
// reads the file back into a frame with the same Hash. An infinite number,
// a datetime outside years 0 to 9999 (or, at nanosecond precision, 1678 to
// 2261) or a frame without columns is an error.
func WriteParquet(path string, f *Frame) error {
	if err := writeParquetFile(path, f); err != nil {
		return fmt.Errorf("frame: write %s: %w", path, err)
	}
	return nil
}

func writeParquetFile(path string, f *Frame) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()           //nolint:errcheck // already failing
			os.Remove(tmp.Name()) //nolint:errcheck // best effort clean-up
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<16)
	if err := writeParquet(bw, f); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// countWriter counts bytes written and keeps the first error.
type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (cw *countWriter) write(b []byte) {
	if cw.err != nil {
		return
	}
	n, err := cw.w.Write(b)
	cw.n += int64(n)
	cw.err = err
}

// chunkMeta is what the footer records about one column chunk.
type chunkMeta struct {
	phys       int32
	encodings  []int32
	start      int64 // offset of the first page
	dataOffset int64 // offset of the first data page
	dictOffset int64 // offset of the dictionary page; 0 = none
	size       int64 // bytes of all pages, headers included
	converted  int32 // -1 = none
	logical    func(e *tencoder)
}

func writeParquet(w io.Writer, f *Frame) error {
	if f.NumCols() == 0 {
		return errors.New("frame has no columns")
	}
	cw := &countWriter{w: w}
	cw.write([]byte("PAR1"))
	metas := make([]chunkMeta, f.NumCols())
	for j, c := range f.cols {
		var err error
		if metas[j], err = writeChunk(cw, c); err != nil {
			return fmt.Errorf("column %q: %w", c.Name, err)
		}
	}
	footer := parquetFooter(f, metas)
	cw.write(footer)
	cw.write(binary.LittleEndian.AppendUint32(nil, uint32(len(footer))))
	cw.write([]byte("PAR1"))
	return cw.err
}

func parquetFooter(f *Frame, metas []chunkMeta) []byte {
	e := newTencoder()
	e.i32(1, 1) // version
	e.list(2, tStruct, f.NumCols()+1)
	e.begin(0)
	e.binary(4, "schema")
	e.i32(5, int32(f.NumCols()))
	e.end()
	for j, c := range f.cols {
		m := metas[j]
		e.begin(0)
		e.i32(1, m.phys)
		e.i32(3, 1) // OPTIONAL
		e.binary(4, c.Name)
		if m.converted >= 0 {
			e.i32(6, m.converted)
		}
		if m.logical != nil {
			e.begin(10)
			m.logical(e)
			e.end()
		}
		e.end()
	}
	e.i64(3, int64(f.rows))
	e.list(4, tStruct, 1)
	e.begin(0) // the row group
	e.list(1, tStruct, len(metas))
	var total int64
	for j, c := range f.cols {
		m := metas[j]
		total += m.size
		e.begin(0) // ColumnChunk
		e.i64(2, m.start)
		e.begin(3) // ColumnMetaData
		e.i32(1, m.phys)
		e.list(2, tI32, len(m.encodings))
		for _, enc := range m.encodings {
			e.zigzag(int64(enc))
		}
		e.list(3, tBinary, 1)
		e.uvarint(uint64(len(c.Name)))
		e.b = append(e.b, c.Name...)
		e.i32(4, codecNone)
		e.i64(5, int64(f.rows))
		e.i64(6, m.size)
		e.i64(7, m.size)
		e.i64(9, m.dataOffset)
		if m.dictOffset > 0 {
			e.i64(11, m.dictOffset)
		}
		e.end()
		e.end()
	}
	e.i64(2, total)
	e.i64(3, int64(f.rows))
	e.end()
	e.binary(6, "tabforge")
	e.end()
	return e.b
}

// writeChunk writes the pages of column c.
func writeChunk(cw *countWriter, c *Column) (chunkMeta, error) {
	m := chunkMeta{start: cw.n, converted: -1, encodings: []int32{encPlain, encRLE}}
	var values func(lo, hi int, b []byte) ([]byte, int32, error)
	switch c.Kind {
	case Numeric:
		m.phys = ptDouble
		values = func(lo, hi int, b []byte) ([]byte, int32, error) {
			for i := lo; i < hi; i++ {
				v := c.Num[i]
				if math.IsInf(v, 0) {
					return nil, 0, &ParseError{Row: i + 1, Column: c.Name, Err: ErrInfinite}
				}
				if !math.IsNaN(v) {
					b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
				}
			}
			return b, encPlain, nil
		}
	case Datetime:
		m.phys = ptInt64
		unit, err := timestampUnit(c)
		if err != nil {
			return m, err
		}
		unitField := map[int64]int16{1e6: 1, 1e3: 2, 1: 3}[unit]
		m.logical = func(e *tencoder) {
			e.begin(8) // TIMESTAMP
			e.boolean(1, true)
			e.begin(2)
			e.begin(unitField)
			e.end()
			e.end()
			e.end()
		}
		switch unit {
		case 1e6:
			m.converted = ctTimestampMillis
		case 1e3:
			m.converted = ctTimestampMicros
		}
		perSec := 1e9 / unit
		values = func(lo, hi int, b []byte) ([]byte, int32, error) {
			for i := lo; i < hi; i++ {
				if math.IsNaN(c.Num[i]) {
					continue
				}
				sec, nsec, _ := splitUnix(c.Num[i]) // validated by timestampUnit
				b = binary.LittleEndian.AppendUint64(b, uint64(sec*perSec+nsec/unit))
			}
			return b, encPlain, nil
		}
	case Categorical:
		m.phys = ptByteArray
		utf := true
		for _, l := range c.Levels {
			utf = utf && utf8.ValidString(l)
		}
		if utf {
			m.converted = ctUTF8
			m.logical = func(e *tencoder) { e.begin(1); e.end() }
		}
		if len(c.Levels) > 0 {
			var dict []byte
			for _, l := range c.Levels {
				dict = binary.LittleEndian.AppendUint32(dict, uint32(len(l)))
				dict = append(dict, l...)
			}
			if len(dict) > math.MaxInt32 {
				return m, fmt.Errorf("%w: dictionary exceeds 2 GiB", ErrUnsupported)
			}
			m.dictOffset = cw.n
			h := newTencoder()
			h.i32(1, pageDict)
			h.i32(2, int32(len(dict)))
			h.i32(3, int32(len(dict)))
			h.begin(7)
			h.i32(1, int32(len(c.Levels)))
			h.i32(2, encPlain)
			h.end()
			h.end()
			cw.write(h.b)
			cw.write(dict)
			m.encodings = append(m.encodings, encRLEDict)
		}
		width := max(1, bits.Len32(uint32(len(c.Levels)-1)))
		idx := make([]uint32, 0, pageRows)
		values = func(lo, hi int, b []byte) ([]byte, int32, error) {
			if len(c.Levels) == 0 {
				return b, encPlain, nil // every value is missing
			}
			idx = idx[:0]
			for _, code := range c.Codes[lo:hi] {
				if code >= 0 {
					idx = append(idx, uint32(code))
				}
			}
			b = append(b, byte(width))
			return appendBitPacked(b, idx, width), encRLEDict, nil
		}
	default:
		return m, fmt.Errorf("invalid kind %v", c.Kind)
	}
	m.dataOffset = cw.n
	var page []byte
	for lo := 0; lo < c.Len(); lo += pageRows {
		hi := min(lo+pageRows, c.Len())
		page = append(page[:0], 0, 0, 0, 0)
		page = appendDefLevels(page, c, lo, hi)
		binary.LittleEndian.PutUint32(page, uint32(len(page)-4))
		var enc int32
		var err error
		if page, enc, err = values(lo, hi, page); err != nil {
			return m, err
		}
		if len(page) > math.MaxInt32 {
			return m, fmt.Errorf("%w: page exceeds 2 GiB", ErrUnsupported)
		}
		h := newTencoder()
		h.i32(1, pageData)
		h.i32(2, int32(len(page)))
		h.i32(3, int32(len(page)))
		h.begin(5)
		h.i32(1, int32(hi-lo))
		h.i32(2, enc)
		h.i32(3, encRLE)
		h.i32(4, encRLE)
		h.end()
		h.end()
		cw.write(h.b)
		cw.write(page)
	}
	m.size = cw.n - m.start
	return m, cw.err
}

// timestampUnit returns the coarsest unit (in nanoseconds: 1e6, 1e3 or 1)
// that represents every value of datetime column c exactly, and checks the
// values' range.
func timestampUnit(c *Column) (int64, error) {
	unit := int64(1e6)
	for i, v := range c.Num {
		if math.IsNaN(v) {
			continue
		}
		_, nsec, err := splitUnix(v)
		if err != nil {
			return 0, &ParseError{Row: i + 1, Column: c.Name, Err: err}
		}
		for nsec%unit != 0 {
			unit /= 1000
		}
	}
	if unit == 1 {
		for i, v := range c.Num {
			if v < -9.2e9 || v > 9.2e9 { // int64 nanoseconds cover 1677-09-21 to 2262-04-11
				return 0, &ParseError{Row: i + 1, Column: c.Name, Err: fmt.Errorf("datetime %v needs nanoseconds but is outside 1678 to 2261", v)}
			}
		}
	}
	return unit, nil
}

// appendDefLevels appends the definition levels (1 = present) of rows
// [lo, hi) of c in the RLE/bit-packed hybrid encoding.
func appendDefLevels(b []byte, c *Column, lo, hi int) []byte {
	levels := make([]uint32, hi-lo)
	all := true
	for i := range levels {
		if !c.IsMissing(lo + i) {
			levels[i] = 1
		} else {
			all = false
		}
	}
	if all {
		b = binary.AppendUvarint(b, uint64(hi-lo)<<1)
		return append(b, 1)
	}
	return appendBitPacked(b, levels, 1)
}

// appendBitPacked appends vals as one bit-packed run of the hybrid
// encoding, padded to a multiple of 8 values.
func appendBitPacked(b []byte, vals []uint32, width int) []byte {
	groups := (len(vals) + 7) / 8
	b = binary.AppendUvarint(b, uint64(groups)<<1|1)
	start := len(b)
	b = append(b, make([]byte, groups*width)...)
	out := b[start:]
	bit := 0
	for _, v := range vals {
		for k := range width {
			if v>>k&1 == 1 {
				out[bit/8] |= 1 << (bit % 8)
			}
			bit++
		}
	}
	return b
}
