package frame

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// parquetBatch is the number of values read from a page at a time.
const parquetBatch = 1 << 12

// columnDecoder appends one non-null Parquet value to a colBuilder of
// kind.
type columnDecoder struct {
	kind Kind
	add  func(b *colBuilder, v parquet.Value) error
}

// readChunk reads one column chunk page by page, nulls as missing, in row
// order.
func readChunk(b *colBuilder, dec columnDecoder, cc parquet.ColumnChunk) error {
	pages := cc.Pages()
	defer pages.Close()
	vals := make([]parquet.Value, parquetBatch)
	for {
		page, err := pages.ReadPage()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		err = readPage(b, dec, page, vals)
		parquet.Release(page)
		if err != nil {
			return err
		}
	}
}

func readPage(b *colBuilder, dec columnDecoder, page parquet.Page, vals []parquet.Value) error {
	r := page.Values()
	for {
		n, err := r.ReadValues(vals)
		for _, v := range vals[:n] {
			if v.IsNull() {
				b.appendMissing()
				continue
			}
			if err := dec.add(b, v); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("%w: page reader made no progress", errCorrupt)
		}
	}
}

// logical is a column's logical type, from its LogicalType or, in files
// of older writers, its ConvertedType.
type logical int

const (
	plain logical = iota
	ltString
	ltDate
	ltDecimal
	ltTime
	ltTimestamp
	ltUnsigned
	ltNull
	ltFloat16
	ltInterval
)

// logicalOf returns e's logical type and, for times and timestamps, how
// many of its units make a second.
func logicalOf(e *format.SchemaElement) (logical, int64) {
	switch lt := e.LogicalType.Value.(type) {
	case *format.StringType:
		return ltString, 0
	case *format.DateType:
		return ltDate, 0
	case *format.DecimalType:
		return ltDecimal, 0
	case *format.TimeType:
		return ltTime, unitsPerSecond(lt.Unit)
	case *format.TimestampType:
		return ltTimestamp, unitsPerSecond(lt.Unit)
	case *format.IntType:
		if !lt.IsSigned {
			return ltUnsigned, 0
		}
		return plain, 0
	case *format.NullType:
		return ltNull, 0
	case *format.Float16Type:
		return ltFloat16, 0
	}
	if !e.ConvertedType.Valid {
		return plain, 0
	}
	switch e.ConvertedType.V {
	case deprecated.UTF8:
		return ltString, 0
	case deprecated.Date:
		return ltDate, 0
	case deprecated.Decimal:
		return ltDecimal, 0
	case deprecated.TimeMillis:
		return ltTime, 1e3
	case deprecated.TimeMicros:
		return ltTime, 1e6
	case deprecated.TimestampMillis:
		return ltTimestamp, 1e3
	case deprecated.TimestampMicros:
		return ltTimestamp, 1e6
	case deprecated.Uint8, deprecated.Uint16, deprecated.Uint32, deprecated.Uint64:
		return ltUnsigned, 0
	case deprecated.Interval:
		return ltInterval, 0
	}
	return plain, 0
}

// unitsPerSecond returns how many of unit make a second.
func unitsPerSecond(unit format.TimeUnit) int64 {
	switch unit.Value.(type) {
	case *format.MilliSeconds:
		return 1e3
	case *format.MicroSeconds:
		return 1e6
	}
	return 1e9
}

// decoderFor chooses how to read a column from its physical and logical
// types.
func decoderFor(e *format.SchemaElement) (columnDecoder, error) {
	lt, perSec := logicalOf(e)
	scale := int(e.Scale.V)
	if d, ok := e.LogicalType.Value.(*format.DecimalType); ok {
		scale = int(d.Scale)
	}
	switch lt {
	case ltInterval:
		return columnDecoder{}, fmt.Errorf("%w: INTERVAL column", ErrUnsupported)
	case ltNull:
		return columnDecoder{kind: Numeric, add: func(b *colBuilder, _ parquet.Value) error { b.appendMissing(); return nil }}, nil
	}
	num := func(conv func(parquet.Value) float64) columnDecoder {
		return columnDecoder{kind: Numeric, add: func(b *colBuilder, v parquet.Value) error { return b.appendNum(conv(v)) }}
	}
	switch format.Type(e.Type.V) {
	case format.Boolean:
		return columnDecoder{kind: Categorical, add: addBoolean}, nil
	case format.Int32:
		return intDecoder(lt, perSec, scale, func(v parquet.Value) int64 { return int64(v.Int32()) }, 32), nil
	case format.Int64:
		return intDecoder(lt, perSec, scale, parquet.Value.Int64, 64), nil
	case format.Int96:
		return columnDecoder{kind: Datetime, add: func(b *colBuilder, v parquet.Value) error { return b.appendTime(int96Unix(v.Int96())) }}, nil
	case format.Float:
		return num(func(v parquet.Value) float64 { return float64(v.Float()) }), nil
	case format.Double:
		return num(parquet.Value.Double), nil
	case format.ByteArray, format.FixedLenByteArray:
		switch lt {
		case ltDecimal:
			return num(func(v parquet.Value) float64 { return decimalBytes(v.ByteArray(), scale) }), nil
		case ltFloat16:
			return columnDecoder{kind: Numeric, add: addFloat16}, nil
		}
		return columnDecoder{kind: Categorical, add: func(b *colBuilder, v parquet.Value) error { return b.appendLabel(v.ByteArray()) }}, nil
	}
	return columnDecoder{}, fmt.Errorf("%w: physical type %d", ErrUnsupported, e.Type.V)
}

// intDecoder reads INT32 and INT64 columns of bits bits: dates (days),
// timestamps, decimals, times of day, and signed or unsigned integers.
func intDecoder(lt logical, perSec int64, scale int, get func(parquet.Value) int64, bits uint) columnDecoder {
	conv := func(v int64) float64 { return float64(v) }
	kind := Numeric
	switch lt {
	case ltDate:
		kind, conv = Datetime, func(v int64) float64 { return float64(v * 86400) }
	case ltTimestamp:
		nsPerUnit := int64(1e9) / perSec
		kind = Datetime
		conv = func(v int64) float64 {
			sec, rem := floorDiv(v, perSec)
			return unixFloat(sec, rem*nsPerUnit)
		}
	case ltDecimal:
		p := math.Pow10(scale)
		conv = func(v int64) float64 {
			// One division of exact operands rounds once, as parsing the
			// decimal's text does; beyond 2^53 (or 10^22) float64(v) (or
			// p) is rounded already, and the quotient can land an ulp
			// away from the same value read from CSV or a byte-array
			// decimal (Spark writes precision up to 18 as INT64).
			if scale < 0 || (v > -1<<53 && v < 1<<53 && scale <= 22) {
				return float64(v) / p
			}
			return decimalValue(big.NewInt(v), scale)
		}
	case ltTime:
		conv = func(v int64) float64 { return float64(v) / float64(perSec) }
	case ltUnsigned:
		if bits == 32 {
			conv = func(v int64) float64 { return float64(uint32(v)) }
		} else {
			conv = func(v int64) float64 { return float64(uint64(v)) }
		}
	}
	if kind == Datetime {
		return columnDecoder{kind: kind, add: func(b *colBuilder, v parquet.Value) error { return b.appendTime(conv(get(v))) }}
	}
	return columnDecoder{kind: kind, add: func(b *colBuilder, v parquet.Value) error { return b.appendNum(conv(get(v))) }}
}

// addFloat16 appends an IEEE 754 half-precision value stored in two
// little-endian bytes.
func addFloat16(b *colBuilder, v parquet.Value) error {
	h := v.ByteArray()
	if len(h) != 2 {
		return fmt.Errorf("%w: FLOAT16 value of %d bytes", errCorrupt, len(h))
	}
	return b.appendNum(float16Value(binary.LittleEndian.Uint16(h)))
}

// addBoolean appends a BOOLEAN value as the label "false" or "true".
func addBoolean(b *colBuilder, v parquet.Value) error {
	label := "false"
	if v.Boolean() {
		label = "true"
	}
	b.codes = append(b.codes, b.intern(label))
	return nil
}

// decimalBytes converts an unscaled big-endian two's complement integer
// divided by 10^scale to the nearest float64.
func decimalBytes(v []byte, scale int) float64 {
	n := new(big.Int).SetBytes(v)
	if len(v) > 0 && v[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(v))))
	}
	return decimalValue(n, scale)
}

// decimalValue returns n / 10^scale rounded to the nearest float64.
func decimalValue(n *big.Int, scale int) float64 {
	f, _ := new(big.Rat).SetFrac(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)).Float64()
	return f
}

// float16Value converts IEEE 754 half-precision bits to float64.
func float16Value(h uint16) float64 {
	sign, exp, frac := h>>15, int(h>>10&0x1f), float64(h&0x3ff)
	var v float64
	switch exp {
	case 0:
		v = math.Ldexp(frac, -24)
	case 0x1f:
		v = math.Inf(1)
		if frac != 0 {
			v = math.NaN()
		}
	default:
		v = math.Ldexp(1+frac/1024, exp-15)
	}
	if sign == 1 {
		v = -v
	}
	return v
}

// appendNum appends a numeric or datetime value; NaN is missing and ±Inf
// an error.
func (b *colBuilder) appendNum(x float64) error {
	if math.IsInf(x, 0) {
		return &ParseError{Row: b.base + len(b.num) + 1, Column: b.name, Err: ErrInfinite}
	}
	b.num = append(b.num, x)
	return nil
}

// appendTime appends a datetime, refusing one outside the years 0 to
// 9999 that the writers can write (as RFC 3339 text or a Parquet
// timestamp): a file read must be writable back, by predict --out, say.
// A Parquet TIMESTAMP in milliseconds spans 292 million years, a DATE
// 5.8 million.
func (b *colBuilder) appendTime(x float64) error {
	if x < MinUnix || x >= MaxUnix+1 {
		year := time.Unix(int64(math.Floor(x)), 0).UTC().Year()
		return &ParseError{Row: b.base + len(b.num) + 1, Column: b.name, Err: fmt.Errorf("%w: year %d", ErrDatetimeRange, year)}
	}
	b.num = append(b.num, x)
	return nil
}

// appendLabel appends a categorical value. The bytes may point into the
// reader's buffers; intern copies new labels.
func (b *colBuilder) appendLabel(v []byte) error {
	if code, ok := b.index[string(v)]; ok {
		b.codes = append(b.codes, code)
		return nil
	}
	b.codes = append(b.codes, b.intern(string(v)))
	return nil
}

func (b *colBuilder) appendMissing() {
	if b.kind == Categorical {
		b.codes = append(b.codes, -1)
	} else {
		b.num = append(b.num, math.NaN())
	}
}
