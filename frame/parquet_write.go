package frame

import (
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/tabforge/tabforge/internal/atomicfile"
)

// rowGroupRows is the largest number of rows WriteParquet puts in one row
// group.
const rowGroupRows = 1 << 20

// WriteParquet writes f to path as a ZSTD-compressed Parquet file (through
// parquet-go's writer), replacing any existing file atomically: the data
// goes to a temporary file in the same directory, which is synced and
// renamed.
//
// Every column is OPTIONAL, with missing values as nulls: Numeric columns
// are DOUBLE; Categorical columns are dictionary-encoded BYTE_ARRAY
// annotated as STRING; Datetime columns are INT64 TIMESTAMP adjusted to UTC, in the
// coarsest unit of milli-, micro- or nanoseconds that holds every value
// exactly, their UTC offsets (Column.Offsets), if any is not zero, as
// runs "offset*count,..." in the key-value metadata under
// "tabforge.utc_offsets.<column>". Row groups hold at most 2^20 rows.
//
// ReadParquet (or ReadFile) reads the file back into a frame with the same
// Hash. Labels and column names are written as UTF-8 text: one that is
// not valid UTF-8, which no reader gives, is written decoded as
// Windows-1252, as the readers would decode it, and two names that are
// then equal are an error wrapping ErrDuplicateName. An infinite number, a datetime outside years 0 to 9999 (or, at
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
		return writeColumns(w, cols, f.NumRows(), &parquet.Zstd, rowGroupRows)
	})
}

// writeParquetTo writes f to w as Parquet with codec and row groups of at
// most groupRows rows.
func writeParquetTo(w io.Writer, f *Frame, codec compress.Codec, groupRows int) error {
	cols, err := parquetColumns(f)
	if err != nil {
		return err
	}
	return writeColumns(w, cols, f.NumRows(), codec, groupRows)
}

// parquetColumn is a column ready to write: its schema field and a
// function returning row i's value (a null Value when missing).
type parquetColumn struct {
	field   parquet.Field
	value   func(i int) parquet.Value
	offsets string // a datetime column's encodeOffsets, kept as metadata
}

// parquetColumns checks f's values and maps each column to Parquet.
func parquetColumns(f *Frame) ([]parquetColumn, error) {
	out := make([]parquetColumn, f.NumCols())
	seen := make(map[string]int, len(out))
	for j, c := range f.cols {
		name := decodeText(c.Name)
		if k, dup := seen[name]; dup {
			return nil, fmt.Errorf("column %q: %w once decoded as Windows-1252 (columns %d and %d)", name, ErrDuplicateName, k+1, j+1)
		}
		seen[name] = j
		pc, err := parquetColumnOf(c, name)
		if _, named := errors.AsType[*ParseError](err); err != nil && !named {
			err = fmt.Errorf("column %q: %w", c.Name, err)
		}
		if err != nil {
			return nil, err
		}
		out[j] = pc
	}
	return out, nil
}

// parquetColumnOf maps c to a Parquet column named name.
func parquetColumnOf(c *Column, name string) (parquetColumn, error) {
	field := func(n parquet.Node) parquet.Field { return namedField{Node: parquet.Optional(n), name: name} }
	switch c.Kind {
	case Numeric:
		for i, v := range c.Num {
			if math.IsInf(v, 0) {
				return parquetColumn{}, &ParseError{Row: i + 1, Column: c.Name, Err: ErrInfinite}
			}
		}
		return parquetColumn{field: field(parquet.Leaf(parquet.DoubleType)), value: func(i int) parquet.Value {
			if v := c.Num[i]; !math.IsNaN(v) {
				return parquet.DoubleValue(v)
			}
			return parquet.Value{}
		}}, nil
	case Datetime:
		unit, perUnit, err := timestampUnit(c)
		if err != nil {
			return parquetColumn{}, err
		}
		return parquetColumn{field: field(parquet.Timestamp(unit)), offsets: encodeOffsets(c), value: func(i int) parquet.Value {
			v := c.Num[i]
			if math.IsNaN(v) {
				return parquet.Value{}
			}
			sec, nsec, _ := splitUnix(v) // validated by timestampUnit
			return parquet.Int64Value(inUnits(sec, nsec, perUnit))
		}}, nil
	case Categorical:
		for i, code := range c.Codes {
			if int(code) >= len(c.Levels) || code < -1 {
				return parquetColumn{}, fmt.Errorf("row %d: code %d out of range for %d levels", i+1, code, len(c.Levels))
			}
		}
		labels := make([][]byte, len(c.Levels))
		for k, l := range c.Levels {
			labels[k] = []byte(decodeText(l))
		}
		return parquetColumn{field: field(parquet.Encoded(parquet.String(), &parquet.RLEDictionary)), value: func(i int) parquet.Value {
			if code := c.Codes[i]; code >= 0 {
				return parquet.ByteArrayValue(labels[code])
			}
			return parquet.Value{}
		}}, nil
	}
	return parquetColumn{}, fmt.Errorf("invalid kind %v", c.Kind)
}

// writeColumns writes the columns of n rows as a Parquet file to w, which
// it does not close. A panic inside parquet-go becomes an error.
func writeColumns(w io.Writer, cols []parquetColumn, n int, codec compress.Codec, groupRows int) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("parquet writer failed: %v", p)
		}
	}()
	fields := make(orderedGroup, len(cols))
	for j, c := range cols {
		fields[j] = c.field
	}
	opts := []parquet.WriterOption{parquet.NewSchema("schema", fields), parquet.Compression(codec), parquet.CreatedBy("tabforge", "", "")}
	for _, c := range cols {
		if c.offsets != "" {
			opts = append(opts, parquet.KeyValueMetadata(offsetsKeyPrefix+c.field.Name(), c.offsets))
		}
	}
	pw := parquet.NewWriter(w, opts...)
	vals := make([]parquet.Value, min(n, parquetBatch))
	for lo := 0; lo < n; lo += groupRows {
		hi := min(lo+groupRows, n)
		for j, c := range cols {
			if err := writeColumnRange(pw.ColumnWriters()[j], c, j, lo, hi, vals); err != nil {
				return fmt.Errorf("write parquet column %q: %w", c.field.Name(), err)
			}
		}
		if err := pw.Flush(); err != nil {
			return fmt.Errorf("write parquet row group: %w", err)
		}
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("close parquet writer: %w", err)
	}
	return nil
}

// writeColumnRange writes rows [lo, hi) of column c, the j-th, through
// cw, a batch of vals at a time.
func writeColumnRange(cw *parquet.ColumnWriter, c parquetColumn, j, lo, hi int, vals []parquet.Value) error {
	for b := lo; b < hi; b += len(vals) {
		batch := vals[:min(len(vals), hi-b)]
		for i := range batch {
			v := c.value(b + i)
			def := 1
			if v.IsNull() {
				def = 0
			}
			batch[i] = v.Level(0, def, j)
		}
		if _, err := cw.WriteRowValues(batch); err != nil {
			return err
		}
	}
	return nil
}

// orderedGroup is a Parquet group node whose fields keep the frame's
// column order (parquet.Group, a map, sorts them by name).
type orderedGroup []parquet.Field

func (g orderedGroup) ID() int                     { return 0 }
func (g orderedGroup) String() string              { return fmt.Sprintf("group of %d columns", len(g)) }
func (g orderedGroup) Type() parquet.Type          { return parquet.Group{}.Type() }
func (g orderedGroup) Optional() bool              { return false }
func (g orderedGroup) Repeated() bool              { return false }
func (g orderedGroup) Required() bool              { return true }
func (g orderedGroup) Leaf() bool                  { return false }
func (g orderedGroup) Fields() []parquet.Field     { return g }
func (g orderedGroup) Encoding() encoding.Encoding { return nil }
func (g orderedGroup) Compression() compress.Codec { return nil }
func (g orderedGroup) GoType() reflect.Type        { return reflect.TypeFor[map[string]any]() }

// namedField is a column of an orderedGroup. Frames are written row by
// row as parquet.Row values, never from Go structs, so Value is unused.
type namedField struct {
	parquet.Node
	name string
}

func (f namedField) Name() string                      { return f.name }
func (f namedField) Value(reflect.Value) reflect.Value { return reflect.Value{} }

// timestampUnit returns the coarsest of milli-, micro- and nanoseconds
// in which every value of datetime column c reads back as the same
// float64, with its length in nanoseconds, and checks the values' range.
// A float64 holds about 16 digits, so far from 1970 the nanoseconds of
// a value parsed from "2500-01-01T00:00:00.100" are float noise
// (100002288): a millisecond gives the value back, and asking for
// nanoseconds would refuse it as outside 1678 to 2261.
func timestampUnit(c *Column) (parquet.TimeUnit, int64, error) {
	unit := int64(1e6) // nanoseconds per unit
	for i, v := range c.Num {
		if math.IsNaN(v) {
			continue
		}
		sec, nsec, err := splitUnix(v)
		if err == nil && c.Offsets != nil && c.Offsets[i] != 0 {
			// The civil time, which CSV writes, must be in range too:
			// a file this writes must be writable as CSV.
			if _, _, civil := splitUnix(v + float64(c.Offsets[i])); civil != nil {
				err = fmt.Errorf("datetime %s at UTC offset %s is outside years 0 to 9999 in that offset",
					time.Unix(sec, nsec).UTC().Format(time.RFC3339Nano), time.Unix(0, 0).In(time.FixedZone("", int(c.Offsets[i]))).Format("-07:00"))
			}
		}
		if err != nil {
			return nil, 0, &ParseError{Row: i + 1, Column: c.Name, Err: err}
		}
		for unit > 1 && fromUnits(inUnits(sec, nsec, unit), unit) != v {
			unit /= 1000
		}
	}
	switch unit {
	case 1e6:
		return parquet.Millisecond, unit, nil
	case 1e3:
		return parquet.Microsecond, unit, nil
	}
	for i, v := range c.Num {
		if v < -9.2e9 || v > 9.2e9 { // int64 nanoseconds cover 1677-09-21 to 2262-04-11
			return nil, 0, &ParseError{Row: i + 1, Column: c.Name, Err: fmt.Errorf("datetime %v needs nanoseconds but is outside 1678 to 2261", v)}
		}
	}
	return parquet.Nanosecond, unit, nil
}

// inUnits is sec seconds and nsec nanoseconds in units of perUnit
// nanoseconds, rounded to the nearest.
func inUnits(sec, nsec, perUnit int64) int64 {
	return sec*(1e9/perUnit) + (nsec+perUnit/2)/perUnit
}

// fromUnits is the Unix seconds the Parquet reader makes of n units of
// perUnit nanoseconds.
func fromUnits(n, perUnit int64) float64 {
	sec, rem := floorDiv(n, 1e9/perUnit)
	return unixFloat(sec, rem*perUnit)
}
