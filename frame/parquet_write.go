package frame

import (
	"fmt"
	"io"
	"math"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/tabforge/tabforge/internal/atomicfile"
)

// rowGroupRows is the largest number of rows WriteParquet puts in one row
// group.
const rowGroupRows = 1 << 20

// WriteParquet writes f to path as a ZSTD-compressed Parquet file (through
// Apache arrow-go), replacing any existing file atomically: the data goes
// to a temporary file in the same directory, which is synced and renamed.
//
// Every column is OPTIONAL, with missing values as nulls: Numeric columns
// are DOUBLE; Categorical columns are dictionary-encoded BYTE_ARRAY
// (Arrow dictionary<int32, string>), annotated as STRING when every level
// is valid UTF-8 (else plain binary); Datetime columns are INT64
// TIMESTAMP adjusted to UTC, in the coarsest unit of milli-, micro- or
// nanoseconds that holds every value exactly. The Arrow schema is stored
// in the file's metadata, so Arrow-based readers see the categorical
// columns as dictionaries. Row groups hold at most 2^20 rows.
//
// ReadParquet (or ReadFile) reads the file back into a frame with the same
// Hash. An infinite number, a datetime outside years 0 to 9999 (or, at
// nanosecond precision, 1678 to 2261) or a frame without columns is an
// error.
func WriteParquet(path string, f *Frame) error {
	if err := writeParquetFile(path, f); err != nil {
		return fmt.Errorf("frame: %w", err)
	}
	return nil
}

func writeParquetFile(path string, f *Frame) (err error) {
	if f.NumCols() == 0 {
		return fmt.Errorf("write %s: frame has no columns", path)
	}
	rec, err := arrowRecord(f)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer rec.Release()

	return atomicfile.Write(path, func(w io.Writer) error {
		return writeParquetRecord(w, rec, compress.Codecs.Zstd)
	})
}

// writeParquetRecord writes rec as a Parquet file compressed with codec
// to w, which it does not close. A panic inside arrow-go becomes an error.
func writeParquetRecord(w io.Writer, rec arrow.RecordBatch, codec compress.Compression) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("parquet writer failed: %v", p)
		}
	}()
	props := parquet.NewWriterProperties(
		parquet.WithCompression(codec),
		parquet.WithMaxRowGroupLength(rowGroupRows),
		parquet.WithAllocator(memory.DefaultAllocator),
	)
	arrProps := pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())
	fw, err := pqarrow.NewFileWriter(rec.Schema(), w, props, arrProps)
	if err != nil {
		return fmt.Errorf("parquet writer: %w", err)
	}
	if err := fw.Write(rec); err != nil {
		fw.Close() //nolint:errcheck // already failing
		return fmt.Errorf("write parquet: %w", err)
	}
	if err := fw.Close(); err != nil {
		return fmt.Errorf("close parquet writer: %w", err)
	}
	return nil
}

// arrowRecord converts f to an Arrow record batch. Numeric values and
// categorical codes are shared with f, not copied.
func arrowRecord(f *Frame) (arrow.RecordBatch, error) {
	fields := make([]arrow.Field, f.NumCols())
	arrays := make([]arrow.Array, f.NumCols())
	defer func() {
		for _, a := range arrays {
			if a != nil {
				a.Release()
			}
		}
	}()
	for j, c := range f.cols {
		a, err := arrowArray(c)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", c.Name, err)
		}
		arrays[j] = a
		fields[j] = arrow.Field{Name: c.Name, Type: a.DataType(), Nullable: true}
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), arrays, int64(f.rows)), nil
}

// arrowArray converts c to an Arrow array: float64, dictionary<int32,
// string or binary> or timestamp (UTC).
func arrowArray(c *Column) (arrow.Array, error) {
	n := c.Len()
	switch c.Kind {
	case Numeric:
		valid, nulls := validity(n, func(i int) bool { return !math.IsNaN(c.Num[i]) })
		for i, v := range c.Num {
			if math.IsInf(v, 0) {
				return nil, &ParseError{Row: i + 1, Column: c.Name, Err: ErrInfinite}
			}
		}
		data := array.NewData(arrow.PrimitiveTypes.Float64, n,
			[]*memory.Buffer{valid, memory.NewBufferBytes(arrow.Float64Traits.CastToBytes(c.Num))}, nil, nulls, 0)
		defer data.Release()
		return array.NewFloat64Data(data), nil

	case Datetime:
		unit, err := timestampUnit(c)
		if err != nil {
			return nil, err
		}
		valid, nulls := validity(n, func(i int) bool { return !math.IsNaN(c.Num[i]) })
		nsPerUnit := int64(unit.Multiplier())
		perSec := int64(1e9) / nsPerUnit
		vals := make([]arrow.Timestamp, n)
		for i, v := range c.Num {
			if !math.IsNaN(v) {
				sec, nsec, _ := splitUnix(v) // validated by timestampUnit
				vals[i] = arrow.Timestamp(sec*perSec + nsec/nsPerUnit)
			}
		}
		typ := &arrow.TimestampType{Unit: unit, TimeZone: "UTC"}
		data := array.NewData(typ, n,
			[]*memory.Buffer{valid, memory.NewBufferBytes(arrow.TimestampTraits.CastToBytes(vals))}, nil, nulls, 0)
		defer data.Release()
		return array.NewTimestampData(data), nil

	case Categorical:
		if len(c.Levels) > math.MaxInt32 {
			return nil, fmt.Errorf("%w: %d levels", ErrUnsupported, len(c.Levels))
		}
		for i, code := range c.Codes {
			if int(code) >= len(c.Levels) || code < -1 {
				return nil, fmt.Errorf("row %d: code %d out of range for %d levels", i+1, code, len(c.Levels))
			}
		}
		valid, nulls := validity(n, func(i int) bool { return c.Codes[i] >= 0 })
		idxData := array.NewData(arrow.PrimitiveTypes.Int32, n,
			[]*memory.Buffer{valid, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(c.Codes))}, nil, nulls, 0)
		defer idxData.Release()
		indices := array.NewInt32Data(idxData)
		defer indices.Release()

		var dict arrow.Array
		valueType := arrow.BinaryTypes.String
		if allUTF8(c.Levels) {
			bld := array.NewStringBuilder(memory.DefaultAllocator)
			defer bld.Release()
			bld.AppendValues(c.Levels, nil)
			dict = bld.NewArray()
		} else {
			valueType = arrow.BinaryTypes.Binary
			bld := array.NewBinaryBuilder(memory.DefaultAllocator, arrow.BinaryTypes.Binary)
			defer bld.Release()
			bld.AppendStringValues(c.Levels, nil)
			dict = bld.NewArray()
		}
		defer dict.Release()
		typ := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: valueType}
		return array.NewDictionaryArray(typ, indices, dict), nil
	}
	return nil, fmt.Errorf("invalid kind %v", c.Kind)
}

// validity returns the validity bitmap of n values (nil when all are
// valid) and the number of nulls.
func validity(n int, valid func(int) bool) (*memory.Buffer, int) {
	bits := make([]byte, bitutil.BytesForBits(int64(n)))
	nulls := 0
	for i := range n {
		if valid(i) {
			bitutil.SetBit(bits, i)
		} else {
			nulls++
		}
	}
	if nulls == 0 {
		return nil, 0
	}
	return memory.NewBufferBytes(bits), nulls
}

func allUTF8(levels []string) bool {
	for _, l := range levels {
		if !utf8.ValidString(l) {
			return false
		}
	}
	return true
}

// timestampUnit returns the coarsest of milli-, micro- and nanoseconds
// that represents every value of datetime column c exactly, and checks
// the values' range.
func timestampUnit(c *Column) (arrow.TimeUnit, error) {
	unit := int64(1e6) // nanoseconds per unit
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
	switch unit {
	case 1e6:
		return arrow.Millisecond, nil
	case 1e3:
		return arrow.Microsecond, nil
	}
	for i, v := range c.Num {
		if v < -9.2e9 || v > 9.2e9 { // int64 nanoseconds cover 1677-09-21 to 2262-04-11
			return 0, &ParseError{Row: i + 1, Column: c.Name, Err: fmt.Errorf("datetime %v needs nanoseconds but is outside 1678 to 2261", v)}
		}
	}
	return arrow.Nanosecond, nil
}
