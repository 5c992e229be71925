package frame

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// parquetBatch is the number of values a column reader decodes at a time.
const parquetBatch = 1 << 14

// columnDecoder reads the chunks of one Parquet column into a colBuilder
// of kind: read appends a chunk's values, nulls as missing.
type columnDecoder struct {
	kind Kind
	read func(b *colBuilder, cr file.ColumnChunkReader, maxDef int16) error
}

// decoderFor chooses how to read a column from its physical and logical
// types.
func decoderFor(c *schema.Column) (columnDecoder, error) {
	lt := c.LogicalType()
	if _, ok := lt.(schema.IntervalLogicalType); ok {
		return columnDecoder{}, fmt.Errorf("%w: INTERVAL column", ErrUnsupported)
	}
	if _, ok := lt.(schema.NullLogicalType); ok {
		return columnDecoder{kind: Numeric, read: readNulls}, nil
	}
	switch c.PhysicalType() {
	case parquet.Types.Boolean:
		return columnDecoder{kind: Categorical, read: readBooleans}, nil
	case parquet.Types.Int32:
		return int32Decoder(lt), nil
	case parquet.Types.Int64:
		return int64Decoder(lt), nil
	case parquet.Types.Int96:
		return columnDecoder{kind: Datetime, read: func(b *colBuilder, cr file.ColumnChunkReader, maxDef int16) error {
			return readColumn(b, cr, maxDef, func(v parquet.Int96) error { return b.appendNum(int96Unix(v)) })
		}}, nil
	case parquet.Types.Float:
		return columnDecoder{kind: Numeric, read: func(b *colBuilder, cr file.ColumnChunkReader, maxDef int16) error {
			return readColumn(b, cr, maxDef, func(v float32) error { return b.appendNum(float64(v)) })
		}}, nil
	case parquet.Types.Double:
		return columnDecoder{kind: Numeric, read: func(b *colBuilder, cr file.ColumnChunkReader, maxDef int16) error {
			return readColumn(b, cr, maxDef, b.appendNum)
		}}, nil
	case parquet.Types.ByteArray:
		if d, ok := lt.(schema.DecimalLogicalType); ok {
			return bytesDecimal[parquet.ByteArray](int(d.Scale())), nil
		}
		return columnDecoder{kind: Categorical, read: func(b *colBuilder, cr file.ColumnChunkReader, maxDef int16) error {
			return readColumn(b, cr, maxDef, func(v parquet.ByteArray) error { return b.appendLabel(v) })
		}}, nil
	case parquet.Types.FixedLenByteArray:
		switch lt := lt.(type) {
		case schema.DecimalLogicalType:
			return bytesDecimal[parquet.FixedLenByteArray](int(lt.Scale())), nil
		case schema.Float16LogicalType:
			return columnDecoder{kind: Numeric, read: func(b *colBuilder, cr file.ColumnChunkReader, maxDef int16) error {
				return readColumn(b, cr, maxDef, func(v parquet.FixedLenByteArray) error {
					if len(v) != 2 {
						return fmt.Errorf("%w: FLOAT16 value of %d bytes", errCorrupt, len(v))
					}
					return b.appendNum(float16Value(binary.LittleEndian.Uint16(v)))
				})
			}}, nil
		}
		return columnDecoder{kind: Categorical, read: func(b *colBuilder, cr file.ColumnChunkReader, maxDef int16) error {
			return readColumn(b, cr, maxDef, func(v parquet.FixedLenByteArray) error { return b.appendLabel(v) })
		}}, nil
	}
	return columnDecoder{}, fmt.Errorf("%w: physical type %s", ErrUnsupported, c.PhysicalType())
}

// int32Decoder reads INT32 columns: dates, decimals, times of day in
// milliseconds, and signed or unsigned integers.
func int32Decoder(lt schema.LogicalType) columnDecoder {
	conv := func(v int32) float64 { return float64(v) }
	kind := Numeric
	switch lt := lt.(type) {
	case schema.DateLogicalType:
		kind, conv = Datetime, func(v int32) float64 { return float64(int64(v) * 86400) }
	case schema.DecimalLogicalType:
		scale := math.Pow10(int(lt.Scale()))
		conv = func(v int32) float64 { return float64(v) / scale }
	case schema.TimeLogicalType:
		conv = func(v int32) float64 { return float64(v) / unitsPerSecond(lt.TimeUnit()) }
	case schema.IntLogicalType:
		if !lt.IsSigned() {
			conv = func(v int32) float64 { return float64(uint32(v)) }
		}
	}
	return columnDecoder{kind: kind, read: func(b *colBuilder, cr file.ColumnChunkReader, maxDef int16) error {
		return readColumn(b, cr, maxDef, func(v int32) error { return b.appendNum(conv(v)) })
	}}
}

// int64Decoder reads INT64 columns: timestamps, decimals, times of day in
// micro- or nanoseconds, and signed or unsigned integers.
func int64Decoder(lt schema.LogicalType) columnDecoder {
	conv := func(v int64) float64 { return float64(v) }
	kind := Numeric
	switch lt := lt.(type) {
	case schema.TimestampLogicalType:
		perSec := int64(unitsPerSecond(lt.TimeUnit()))
		nsPerUnit := int64(1e9) / perSec
		kind = Datetime
		conv = func(v int64) float64 {
			sec, rem := floorDiv(v, perSec)
			return unixFloat(sec, rem*nsPerUnit)
		}
	case schema.DecimalLogicalType:
		scale := math.Pow10(int(lt.Scale()))
		conv = func(v int64) float64 { return float64(v) / scale }
	case schema.TimeLogicalType:
		conv = func(v int64) float64 { return float64(v) / unitsPerSecond(lt.TimeUnit()) }
	case schema.IntLogicalType:
		if !lt.IsSigned() {
			conv = func(v int64) float64 { return float64(uint64(v)) }
		}
	}
	return columnDecoder{kind: kind, read: func(b *colBuilder, cr file.ColumnChunkReader, maxDef int16) error {
		return readColumn(b, cr, maxDef, func(v int64) error { return b.appendNum(conv(v)) })
	}}
}

// bytesDecimal reads a DECIMAL stored as big-endian two's complement bytes.
func bytesDecimal[T ~[]byte](scale int) columnDecoder {
	return columnDecoder{kind: Numeric, read: func(b *colBuilder, cr file.ColumnChunkReader, maxDef int16) error {
		return readColumn(b, cr, maxDef, func(v T) error { return b.appendNum(decimalBytes(v, scale)) })
	}}
}

// decimalBytes converts an unscaled big-endian two's complement integer
// divided by 10^scale to the nearest float64.
func decimalBytes(v []byte, scale int) float64 {
	n := new(big.Int).SetBytes(v)
	if len(v) > 0 && v[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(v))))
	}
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

// unitsPerSecond returns how many of unit make a second.
func unitsPerSecond(unit schema.TimeUnitType) float64 {
	switch unit {
	case schema.TimeUnitMillis:
		return 1e3
	case schema.TimeUnitMicros:
		return 1e6
	}
	return 1e9
}

// chunkReader is a typed Parquet column chunk reader of values of type T.
type chunkReader[T any] interface {
	HasNext() bool
	ReadBatch(batchSize int64, values []T, defLvls, repLvls []int16) (total int64, valuesRead int, err error)
	Err() error
}

// readColumn reads one column chunk, calling value for each non-null value
// and appending a missing value for each null, in row order.
func readColumn[T any](b *colBuilder, ccr file.ColumnChunkReader, maxDef int16, value func(T) error) error {
	cr, ok := ccr.(chunkReader[T])
	if !ok {
		return fmt.Errorf("%w: column has a %T reader", errCorrupt, ccr)
	}
	vals := make([]T, parquetBatch)
	defs := make([]int16, parquetBatch)
	for cr.HasNext() {
		total, n, err := cr.ReadBatch(parquetBatch, vals, defs, nil)
		if err != nil {
			return err
		}
		if total == 0 {
			break
		}
		k := 0
		for i := range int(total) {
			if maxDef > 0 && defs[i] < maxDef {
				b.appendMissing()
				continue
			}
			if k >= n {
				return fmt.Errorf("%w: definition levels and values disagree", errCorrupt)
			}
			if err := value(vals[k]); err != nil {
				return err
			}
			k++
		}
	}
	return cr.Err()
}

// readNulls reads a column of the always-null UNKNOWN type.
func readNulls(b *colBuilder, ccr file.ColumnChunkReader, maxDef int16) error {
	switch cr := ccr.(type) {
	case *file.Int32ColumnChunkReader:
		return readColumn(b, cr, maxDef, func(int32) error { b.appendMissing(); return nil })
	case *file.Int64ColumnChunkReader:
		return readColumn(b, cr, maxDef, func(int64) error { b.appendMissing(); return nil })
	case *file.ByteArrayColumnChunkReader:
		return readColumn(b, cr, maxDef, func(parquet.ByteArray) error { b.appendMissing(); return nil })
	case *file.BooleanColumnChunkReader:
		return readColumn(b, cr, maxDef, func(bool) error { b.appendMissing(); return nil })
	}
	return fmt.Errorf("%w: null column has a %T reader", ErrUnsupported, ccr)
}

// readBooleans reads a BOOLEAN column as the labels "false" and "true".
func readBooleans(b *colBuilder, cr file.ColumnChunkReader, maxDef int16) error {
	codes := [2]int32{-1, -1} // false, true; interned on first use
	return readColumn(b, cr, maxDef, func(v bool) error {
		k := 0
		if v {
			k = 1
		}
		if codes[k] < 0 {
			codes[k] = b.intern([...]string{"false", "true"}[k])
		}
		b.codes = append(b.codes, codes[k])
		return nil
	})
}

// appendNum appends a numeric or datetime value; NaN is missing and ±Inf
// an error.
func (b *colBuilder) appendNum(x float64) error {
	if math.IsInf(x, 0) {
		return &ParseError{Row: len(b.num) + 1, Column: b.name, Err: ErrInfinite}
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
