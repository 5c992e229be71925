package frame

import (
	"fmt"
	"io"
	"math"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
	"github.com/tabforge/tabforge/internal/atomicfile"
)

// rowGroupRows is the largest number of rows WriteParquet puts in one row
// group.
const rowGroupRows = 1 << 20

// WriteParquet writes f to path as a ZSTD-compressed Parquet file (through
// Apache arrow-go's parquet/file writer), replacing any existing file
// atomically: the data goes to a temporary file in the same directory,
// which is synced and renamed.
//
// Every column is OPTIONAL, with missing values as nulls: Numeric columns
// are DOUBLE; Categorical columns are dictionary-encoded BYTE_ARRAY,
// annotated as STRING when every level is valid UTF-8 (else plain
// binary); Datetime columns are INT64 TIMESTAMP adjusted to UTC, in the
// coarsest unit of milli-, micro- or nanoseconds that holds every value
// exactly. Row groups hold at most 2^20 rows.
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

func writeParquetFile(path string, f *Frame) error {
	if f.NumCols() == 0 {
		return fmt.Errorf("write %s: frame has no columns", path)
	}
	cols, err := parquetColumns(f)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		return writeColumns(w, cols, f.NumRows(), compress.Codecs.Zstd, rowGroupRows)
	})
}

// writeParquetTo writes f to w as Parquet with codec and row groups of at
// most groupRows rows.
func writeParquetTo(w io.Writer, f *Frame, codec compress.Compression, groupRows int) error {
	cols, err := parquetColumns(f)
	if err != nil {
		return err
	}
	return writeColumns(w, cols, f.NumRows(), codec, groupRows)
}

// parquetColumn is a column ready to write: its schema node and a
// function writing rows [lo, hi) to a column chunk writer.
type parquetColumn struct {
	node  schema.Node
	write func(cw file.ColumnChunkWriter, lo, hi int) error
}

// parquetColumns checks f's values and maps each column to Parquet.
func parquetColumns(f *Frame) ([]parquetColumn, error) {
	out := make([]parquetColumn, f.NumCols())
	for j, c := range f.cols {
		pc, err := parquetColumnOf(c)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", c.Name, err)
		}
		out[j] = pc
	}
	return out, nil
}

func parquetColumnOf(c *Column) (parquetColumn, error) {
	opt := parquet.Repetitions.Optional
	switch c.Kind {
	case Numeric:
		for i, v := range c.Num {
			if math.IsInf(v, 0) {
				return parquetColumn{}, &ParseError{Row: i + 1, Column: c.Name, Err: ErrInfinite}
			}
		}
		node, err := schema.NewPrimitiveNode(c.Name, opt, parquet.Types.Double, -1, -1)
		return parquetColumn{node: node, write: func(cw file.ColumnChunkWriter, lo, hi int) error {
			return writeValues(cw.(*file.Float64ColumnChunkWriter), c.Num[lo:hi], func(v float64) (float64, bool) { return v, !math.IsNaN(v) })
		}}, err
	case Datetime:
		unit, perUnit, err := timestampUnit(c)
		if err != nil {
			return parquetColumn{}, err
		}
		node, err := schema.NewPrimitiveNodeLogical(c.Name, opt, schema.NewTimestampLogicalType(true, unit), parquet.Types.Int64, -1, -1)
		perSec := int64(1e9) / perUnit
		return parquetColumn{node: node, write: func(cw file.ColumnChunkWriter, lo, hi int) error {
			return writeValues(cw.(*file.Int64ColumnChunkWriter), c.Num[lo:hi], func(v float64) (int64, bool) {
				if math.IsNaN(v) {
					return 0, false
				}
				sec, nsec, _ := splitUnix(v) // validated by timestampUnit
				return sec*perSec + nsec/perUnit, true
			})
		}}, err
	case Categorical:
		for i, code := range c.Codes {
			if int(code) >= len(c.Levels) || code < -1 {
				return parquetColumn{}, fmt.Errorf("row %d: code %d out of range for %d levels", i+1, code, len(c.Levels))
			}
		}
		var lt schema.LogicalType = schema.NoLogicalType{}
		if allUTF8(c.Levels) {
			lt = schema.StringLogicalType{}
		}
		node, err := schema.NewPrimitiveNodeLogical(c.Name, opt, lt, parquet.Types.ByteArray, -1, -1)
		labels := make([]parquet.ByteArray, len(c.Levels))
		for k, l := range c.Levels {
			labels[k] = parquet.ByteArray(l)
		}
		return parquetColumn{node: node, write: func(cw file.ColumnChunkWriter, lo, hi int) error {
			return writeValues(cw.(*file.ByteArrayColumnChunkWriter), c.Codes[lo:hi], func(code int32) (parquet.ByteArray, bool) {
				if code < 0 {
					return nil, false
				}
				return labels[code], true
			})
		}}, err
	}
	return parquetColumn{}, fmt.Errorf("invalid kind %v", c.Kind)
}

// batchWriter is a typed Parquet column chunk writer.
type batchWriter[T any] interface {
	WriteBatch(values []T, defLevels, repLevels []int16) (int64, error)
}

// writeValues writes rows through conv, which returns a row's value and
// whether it is present (else the row is null).
func writeValues[S, T any](w batchWriter[T], rows []S, conv func(S) (T, bool)) error {
	for lo := 0; lo < len(rows); lo += parquetBatch {
		hi := min(lo+parquetBatch, len(rows))
		vals := make([]T, 0, hi-lo)
		defs := make([]int16, hi-lo)
		for i, r := range rows[lo:hi] {
			if v, ok := conv(r); ok {
				vals = append(vals, v)
				defs[i] = 1
			}
		}
		if _, err := w.WriteBatch(vals, defs, nil); err != nil {
			return err
		}
	}
	return nil
}

// writeColumns writes the columns of n rows as a Parquet file to w, which
// it does not close. A panic inside arrow-go becomes an error.
func writeColumns(w io.Writer, cols []parquetColumn, n int, codec compress.Compression, groupRows int) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("parquet writer failed: %v", p)
		}
	}()
	fields := make(schema.FieldList, len(cols))
	for j, c := range cols {
		fields[j] = c.node
	}
	root, err := schema.NewGroupNode("schema", parquet.Repetitions.Required, fields, -1)
	if err != nil {
		return fmt.Errorf("parquet schema: %w", err)
	}
	props := parquet.NewWriterProperties(parquet.WithCompression(codec), parquet.WithDictionaryDefault(true))
	fw, err := file.NewParquetWriterWithError(w, root, file.WithWriterProps(props))
	if err != nil {
		return fmt.Errorf("parquet writer: %w", err)
	}
	for lo := 0; lo < n || lo == 0; lo += groupRows {
		hi := min(lo+groupRows, n)
		rg, err := fw.AppendRowGroupChecked()
		if err != nil {
			return fmt.Errorf("parquet row group: %w", err)
		}
		for _, c := range cols {
			cw, err := rg.NextColumn()
			if err != nil {
				return fmt.Errorf("parquet column: %w", err)
			}
			if err := c.write(cw, lo, hi); err != nil {
				return fmt.Errorf("write parquet: %w", err)
			}
		}
		if err := rg.Close(); err != nil {
			return fmt.Errorf("write parquet: %w", err)
		}
		if hi == n {
			break
		}
	}
	if err := fw.Close(); err != nil {
		return fmt.Errorf("close parquet writer: %w", err)
	}
	return nil
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
// that represents every value of datetime column c exactly, with its
// length in nanoseconds, and checks the values' range.
func timestampUnit(c *Column) (schema.TimeUnitType, int64, error) {
	unit := int64(1e6) // nanoseconds per unit
	for i, v := range c.Num {
		if math.IsNaN(v) {
			continue
		}
		_, nsec, err := splitUnix(v)
		if err != nil {
			return 0, 0, &ParseError{Row: i + 1, Column: c.Name, Err: err}
		}
		for nsec%unit != 0 {
			unit /= 1000
		}
	}
	switch unit {
	case 1e6:
		return schema.TimeUnitMillis, unit, nil
	case 1e3:
		return schema.TimeUnitMicros, unit, nil
	}
	for i, v := range c.Num {
		if v < -9.2e9 || v > 9.2e9 { // int64 nanoseconds cover 1677-09-21 to 2262-04-11
			return 0, 0, &ParseError{Row: i + 1, Column: c.Name, Err: fmt.Errorf("datetime %v needs nanoseconds but is outside 1678 to 2261", v)}
		}
	}
	return schema.TimeUnitNanos, unit, nil
}
