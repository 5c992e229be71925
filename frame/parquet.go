package frame

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// errCorrupt reports a Parquet file that arrow-go could not make sense of
// or that contradicts itself.
var errCorrupt = errors.New("corrupt parquet file")

// julianUnixEpoch is the Julian day number of 1970-01-01, for INT96
// timestamps.
const julianUnixEpoch = 2440588

// int96Batch is the number of INT96 values decoded at a time.
const int96Batch = 1 << 14

// ReadParquet reads a Parquet file with a flat schema through Apache
// arrow-go (parquet/pqarrow). Column kinds follow the Parquet (Arrow)
// types:
//
//   - integers (signed or unsigned, any width), decimals and floats
//     (FLOAT16 included) are Numeric; nulls and NaN are missing; TIME
//     columns are Numeric seconds since midnight; a column of the Parquet
//     UNKNOWN (always null) type is an all-missing Numeric column;
//   - strings, binary (fixed-length too), dictionary-encoded strings and
//     booleans ("false"/"true") are Categorical, levels sorted
//     lexicographically;
//   - DATE, TIMESTAMP (any unit, with or without a time zone, read as UTC)
//     and legacy INT96 timestamps are Datetime (Unix seconds).
//
// opts.Schema converts columns to other kinds through their text form (so
// an integer area code can be Categorical), exactly as ReadCSV would read
// that text; opts.Missing is ignored, since Parquet marks missing values
// itself.
//
// Every compression codec arrow-go implements in pure Go is read:
// UNCOMPRESSED, SNAPPY, GZIP, ZSTD, BROTLI and LZ4_RAW (not the legacy
// Hadoop LZ4 or LZO). Nested columns (lists, maps, structs, repeated
// fields) and Arrow types without a tabular meaning give an error
// wrapping ErrUnsupported. An infinite float is an error wrapping
// ErrInfinite, a file without rows wraps ErrNoRows. A file that makes
// arrow-go panic (corrupt or hostile input) gives an error, not a panic.
//
// Errors name the file.
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
	return readParquetFrom(fh, opts)
}

// readParquetFrom reads a Parquet file from r. A panic inside arrow-go,
// which hostile input can cause, is turned into an error wrapping
// errCorrupt.
func readParquetFrom(r parquet.ReaderAtSeeker, opts ReadOptions) (f *Frame, err error) {
	defer func() {
		if p := recover(); p != nil {
			f, err = nil, fmt.Errorf("%w: parquet reader failed: %v", errCorrupt, p)
		}
	}()
	return decodeParquet(r, opts)
}

func decodeParquet(r parquet.ReaderAtSeeker, opts ReadOptions) (*Frame, error) {
	if err := checkMagic(r); err != nil {
		return nil, err
	}
	mem := memory.DefaultAllocator
	pf, err := file.NewParquetReader(r, file.WithReadProps(parquet.NewReaderProperties(mem)))
	if err != nil {
		return nil, fmt.Errorf("parquet footer: %w", err)
	}
	sc := pf.MetaData().Schema
	if err := checkFlat(sc); err != nil {
		return nil, err
	}
	numRows := pf.NumRows()
	if numRows == 0 {
		return nil, ErrNoRows
	}
	var groupRows int64
	for g, rg := range pf.MetaData().RowGroups {
		n := rg.GetNumRows()
		if n < 0 || n > numRows-groupRows {
			return nil, fmt.Errorf("%w: row group %d has %d rows, file %d", errCorrupt, g, n, numRows)
		}
		groupRows += n
	}
	if numRows < 0 || groupRows != numRows {
		return nil, fmt.Errorf("%w: row groups hold %d rows, file %d", errCorrupt, groupRows, numRows)
	}
	if sc.NumColumns() == 0 {
		return nil, fmt.Errorf("%w: no columns", errCorrupt)
	}

	dropArrowSchema(pf.MetaData())

	// Read string and binary columns as dictionaries: labels are then
	// interned once per distinct value and chunk, not once per row.
	props := pqarrow.ArrowReadProperties{}
	for j := range sc.NumColumns() {
		props.SetReadDict(j, true)
	}
	fr, err := pqarrow.NewFileReader(pf, props, mem)
	if err != nil {
		return nil, fmt.Errorf("parquet schema: %w", err)
	}
	asc, err := fr.Schema()
	if err != nil {
		return nil, fmt.Errorf("parquet schema: %w", err)
	}
	if asc.NumFields() != sc.NumColumns() {
		return nil, fmt.Errorf("%w: %d fields for %d columns", errCorrupt, asc.NumFields(), sc.NumColumns())
	}

	ctx := context.Background()
	groups := pf.MetaData().RowGroups
	out := make([]*Column, sc.NumColumns())
	for j := range out {
		descr := sc.Column(j)
		b := &colBuilder{name: descr.Name()}
		int96 := descr.PhysicalType() == parquet.Types.Int96
		if int96 {
			b.kind = Datetime
		} else if b.kind, err = kindOf(asc.Field(j).Type); err != nil {
			return nil, fmt.Errorf("column %q: %w", b.name, err)
		}
		b.reserve(numRows)
		for g, rg := range groups {
			before := b.len()
			if int96 {
				err = readInt96Chunk(b, pf.RowGroup(g), j, descr.MaxDefinitionLevel())
			} else {
				err = readArrowChunk(ctx, b, fr.RowGroup(g).Column(j))
			}
			if err != nil {
				return nil, fmt.Errorf("row group %d column %q: %w", g, b.name, err)
			}
			if got := int64(b.len() - before); got != rg.GetNumRows() {
				return nil, fmt.Errorf("%w: row group %d column %q has %d values, want %d", errCorrupt, g, b.name, got, rg.GetNumRows())
			}
		}
		if int64(b.len()) != numRows {
			return nil, fmt.Errorf("%w: column %q has %d values, file has %d rows", errCorrupt, b.name, b.len(), numRows)
		}
		out[j] = b.column()
	}

	if err := checkSchemaNames(opts, out); err != nil {
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

// checkMagic checks the "PAR1" magic at both ends of r, so that other
// files get a clear error, and refuses encrypted footers ("PARE" magic),
// which need keys tabforge does not have.
func checkMagic(r parquet.ReaderAtSeeker) error {
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("size: %w", err)
	}
	if size < 12 {
		return fmt.Errorf("not a parquet file: only %d bytes", size)
	}
	var head, tail [4]byte
	if _, err := r.ReadAt(head[:], 0); err != nil {
		return fmt.Errorf("read magic: %w", err)
	}
	if _, err := r.ReadAt(tail[:], size-4); err != nil {
		return fmt.Errorf("read magic: %w", err)
	}
	if string(tail[:]) == "PARE" {
		return fmt.Errorf("%w: encrypted parquet", ErrUnsupported)
	}
	if string(head[:]) != "PAR1" || string(tail[:]) != "PAR1" {
		return errors.New("not a parquet file: no PAR1 magic")
	}
	return nil
}

// arrowSchemaKey is the key-value metadata entry in which Arrow writers
// store the Arrow schema of a Parquet file.
const arrowSchemaKey = "ARROW:schema"

// dropArrowSchema removes the stored Arrow schema from md before pqarrow
// sees it. tabforge maps the Parquet types themselves, so it needs no
// Arrow schema, and arrow-go decodes that serialized blob without bounds:
// a corrupt one can make it allocate without limit, which is fatal, not
// a recoverable panic.
func dropArrowSchema(md *metadata.FileMetaData) {
	kv := md.FileMetaData.KeyValueMetadata
	kept := kv[:0:0]
	for _, e := range kv {
		if e.Key != arrowSchemaKey {
			kept = append(kept, e)
		}
	}
	md.FileMetaData.KeyValueMetadata = kept
}

// checkFlat refuses schemas whose top-level fields are not all primitive,
// non-repeated columns.
func checkFlat(sc *schema.Schema) error {
	root := sc.Root()
	if root.NumFields() != sc.NumColumns() {
		return fmt.Errorf("%w: nested schema (%d top-level fields, %d leaf columns)", ErrUnsupported, root.NumFields(), sc.NumColumns())
	}
	for i := range root.NumFields() {
		n := root.Field(i)
		if n.Type() == schema.Group || n.RepetitionType() == parquet.Repetitions.Repeated {
			return fmt.Errorf("column %q: %w: nested or repeated field", n.Name(), ErrUnsupported)
		}
	}
	return nil
}

// kindOf maps an Arrow type to the kind of column it is read into.
func kindOf(dt arrow.DataType) (Kind, error) {
	switch dt.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64,
		arrow.DECIMAL32, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DECIMAL256,
		arrow.TIME32, arrow.TIME64, arrow.NULL:
		return Numeric, nil
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW,
		arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW,
		arrow.FIXED_SIZE_BINARY, arrow.BOOL:
		return Categorical, nil
	case arrow.DATE32, arrow.DATE64, arrow.TIMESTAMP:
		return Datetime, nil
	case arrow.DICTIONARY:
		return kindOf(dt.(*arrow.DictionaryType).ValueType)
	case arrow.EXTENSION:
		return kindOf(dt.(arrow.ExtensionType).StorageType())
	case arrow.LIST, arrow.LARGE_LIST, arrow.LIST_VIEW, arrow.LARGE_LIST_VIEW,
		arrow.FIXED_SIZE_LIST, arrow.STRUCT, arrow.MAP,
		arrow.SPARSE_UNION, arrow.DENSE_UNION, arrow.RUN_END_ENCODED:
		return 0, fmt.Errorf("%w: nested type %s", ErrUnsupported, dt)
	}
	return 0, fmt.Errorf("%w: type %s", ErrUnsupported, dt)
}

// readArrowChunk reads one column chunk through pqarrow and appends it to
// b.
func readArrowChunk(ctx context.Context, b *colBuilder, cr pqarrow.ColumnChunkReader) error {
	chunked, err := cr.Read(ctx)
	if err != nil {
		return err
	}
	defer chunked.Release()
	for _, a := range chunked.Chunks() {
		if err := b.appendArray(a); err != nil {
			return err
		}
	}
	return nil
}

// readInt96Chunk reads one chunk of a legacy INT96 timestamp column with
// arrow-go's low-level column reader. pqarrow would convert INT96 to
// nanoseconds, which overflow int64 outside 1677 to 2262; tabforge's
// float64 seconds cover years 0 to 9999 and beyond.
func readInt96Chunk(b *colBuilder, rg *file.RowGroupReader, j int, maxDef int16) error {
	ccr, err := rg.Column(j)
	if err != nil {
		return err
	}
	cr, ok := ccr.(*file.Int96ColumnChunkReader)
	if !ok {
		return fmt.Errorf("%w: INT96 column has a %T reader", errCorrupt, ccr)
	}
	vals := make([]parquet.Int96, int96Batch)
	defs := make([]int16, int96Batch)
	for cr.HasNext() {
		total, n, err := cr.ReadBatch(int96Batch, vals, defs, nil)
		if err != nil {
			return err
		}
		if total == 0 {
			break
		}
		k := 0
		for i := range int(total) {
			if maxDef > 0 && defs[i] < maxDef {
				b.num = append(b.num, math.NaN())
				continue
			}
			if k >= n {
				return fmt.Errorf("%w: INT96 levels and values disagree", errCorrupt)
			}
			b.num = append(b.num, int96Unix(vals[k]))
			k++
		}
	}
	return cr.Err()
}

// int96Unix converts a legacy INT96 timestamp (nanoseconds of the day,
// then the Julian day) to Unix seconds.
func int96Unix(v parquet.Int96) float64 {
	nanos := int64(binary.LittleEndian.Uint64(v[:8]))
	days := int64(int32(binary.LittleEndian.Uint32(v[8:])))
	sec, rem := floorDiv(nanos, 1e9)
	return unixFloat((days-julianUnixEpoch)*86400+sec, rem)
}

// floorDiv returns the floored quotient and the non-negative remainder of
// v / d (d > 0).
func floorDiv(v, d int64) (q, r int64) {
	q, r = v/d, v%d
	if r < 0 {
		q, r = q-1, r+d
	}
	return q, r
}

// colBuilder accumulates the values of one column, chunk after chunk.
type colBuilder struct {
	name   string
	kind   Kind
	num    []float64
	codes  []int32
	levels []string
	index  map[string]int32
}

// reserve preallocates room for n rows, within reason: n comes from the
// file and may be hostile.
func (b *colBuilder) reserve(n int64) {
	n = min(n, 1<<20)
	if b.kind == Categorical {
		b.codes = make([]int32, 0, n)
	} else {
		b.num = make([]float64, 0, n)
	}
}

func (b *colBuilder) len() int {
	if b.kind == Categorical {
		return len(b.codes)
	}
	return len(b.num)
}

// column returns the finished column, with categorical levels sorted.
func (b *colBuilder) column() *Column {
	if b.kind == Categorical {
		return sortLevels(NewCategorical(b.name, b.codes, b.levels))
	}
	return &Column{Name: b.name, Kind: b.kind, Num: b.num}
}

// intern returns the code of label s, adding a copy of s as a level if it
// is new (s may point into Arrow memory that is released later).
func (b *colBuilder) intern(s string) int32 {
	if code, ok := b.index[s]; ok {
		return code
	}
	if b.index == nil {
		b.index = map[string]int32{}
	}
	s = strings.Clone(s)
	code := int32(len(b.levels))
	b.index[s] = code
	b.levels = append(b.levels, s)
	return code
}

// errKind reports an array whose type does not match the column's kind,
// which a consistent file never produces.
func (b *colBuilder) errKind(a arrow.Array) error {
	return fmt.Errorf("%w: %s values in a %s column", errCorrupt, a.DataType(), b.kind)
}

// appendArray appends the values of a, whose type maps to b.kind.
func (b *colBuilder) appendArray(a arrow.Array) error {
	if ext, ok := a.(array.ExtensionArray); ok {
		return b.appendArray(ext.Storage())
	}
	if d, ok := a.(*array.Dictionary); ok {
		return b.appendDictionary(d)
	}
	switch b.kind {
	case Numeric:
		return b.appendNumeric(a)
	case Datetime:
		return b.appendDatetime(a)
	}
	if labels := labelsOf(a); labels != nil {
		for i := range a.Len() {
			if a.IsNull(i) {
				b.codes = append(b.codes, -1)
			} else {
				b.codes = append(b.codes, b.intern(labels(i)))
			}
		}
		return nil
	}
	switch a := a.(type) {
	case *array.Boolean:
		codes := [2]int32{-1, -1} // false, true; interned on first use
		for i := range a.Len() {
			if a.IsNull(i) {
				b.codes = append(b.codes, -1)
				continue
			}
			k := 0
			if a.Value(i) {
				k = 1
			}
			if codes[k] < 0 {
				codes[k] = b.intern([...]string{"false", "true"}[k])
			}
			b.codes = append(b.codes, codes[k])
		}
		return nil
	case *array.Null:
		for range a.Len() {
			b.codes = append(b.codes, -1)
		}
		return nil
	}
	return b.errKind(a)
}

// labelsOf returns the accessor of the labels of a string or binary
// array, or nil for other arrays. The strings it returns may point into
// a's memory.
func labelsOf(a arrow.Array) func(int) string {
	switch a := a.(type) {
	case *array.String:
		return a.Value
	case *array.LargeString:
		return a.Value
	case *array.StringView:
		return a.Value
	case *array.Binary:
		return a.ValueString
	case *array.LargeBinary:
		return a.ValueString
	case *array.BinaryView:
		return a.ValueString
	case *array.FixedSizeBinary:
		return func(i int) string { return string(a.Value(i)) }
	}
	return nil
}

// number is an Arrow primitive value type that converts to float64.
type number interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

// appendNumbers appends vals (the values of a) divided by div, with nulls
// and NaN as missing; ±Inf is an error.
func appendNumbers[T number](b *colBuilder, a arrow.Array, vals []T, div float64) error {
	nulls := a.NullN() > 0
	for i, v := range vals {
		x := float64(v) / div
		if nulls && a.IsNull(i) {
			x = math.NaN()
		} else if math.IsInf(x, 0) {
			return &ParseError{Row: len(b.num) + 1, Column: b.name, Err: ErrInfinite}
		}
		b.num = append(b.num, x)
	}
	return nil
}

// appendConverted appends conv(i) for every row i of a, with nulls as
// missing; ±Inf is an error.
func appendConverted(b *colBuilder, a arrow.Array, conv func(int) float64) error {
	for i := range a.Len() {
		if a.IsNull(i) {
			b.num = append(b.num, math.NaN())
			continue
		}
		x := conv(i)
		if math.IsInf(x, 0) {
			return &ParseError{Row: len(b.num) + 1, Column: b.name, Err: ErrInfinite}
		}
		b.num = append(b.num, x)
	}
	return nil
}

func (b *colBuilder) appendNumeric(a arrow.Array) error {
	switch a := a.(type) {
	case *array.Int8:
		return appendNumbers(b, a, a.Int8Values(), 1)
	case *array.Int16:
		return appendNumbers(b, a, a.Int16Values(), 1)
	case *array.Int32:
		return appendNumbers(b, a, a.Int32Values(), 1)
	case *array.Int64:
		return appendNumbers(b, a, a.Int64Values(), 1)
	case *array.Uint8:
		return appendNumbers(b, a, a.Uint8Values(), 1)
	case *array.Uint16:
		return appendNumbers(b, a, a.Uint16Values(), 1)
	case *array.Uint32:
		return appendNumbers(b, a, a.Uint32Values(), 1)
	case *array.Uint64:
		return appendNumbers(b, a, a.Uint64Values(), 1)
	case *array.Float32:
		return appendNumbers(b, a, a.Float32Values(), 1)
	case *array.Float64:
		return appendNumbers(b, a, a.Float64Values(), 1)
	case *array.Float16:
		return appendConverted(b, a, func(i int) float64 { return float64(a.Value(i).Float32()) })
	case *array.Time32:
		return appendNumbers(b, a, a.Time32Values(), unitsPerSecond(a.DataType().(*arrow.Time32Type).Unit))
	case *array.Time64:
		return appendNumbers(b, a, a.Time64Values(), unitsPerSecond(a.DataType().(*arrow.Time64Type).Unit))
	case *array.Decimal32:
		scale := a.DataType().(arrow.DecimalType).GetScale()
		return appendConverted(b, a, func(i int) float64 { return a.Value(i).ToFloat64(scale) })
	case *array.Decimal64:
		scale := a.DataType().(arrow.DecimalType).GetScale()
		return appendConverted(b, a, func(i int) float64 { return a.Value(i).ToFloat64(scale) })
	case *array.Decimal128:
		scale := a.DataType().(arrow.DecimalType).GetScale()
		return appendConverted(b, a, func(i int) float64 { return a.Value(i).ToFloat64(scale) })
	case *array.Decimal256:
		scale := a.DataType().(arrow.DecimalType).GetScale()
		return appendConverted(b, a, func(i int) float64 { return a.Value(i).ToFloat64(scale) })
	case *array.Null:
		for range a.Len() {
			b.num = append(b.num, math.NaN())
		}
		return nil
	}
	return b.errKind(a)
}

// unitsPerSecond returns how many of unit make a second.
func unitsPerSecond(unit arrow.TimeUnit) float64 {
	return float64(int64(1e9) / int64(unit.Multiplier()))
}

func (b *colBuilder) appendDatetime(a arrow.Array) error {
	switch a := a.(type) {
	case *array.Timestamp:
		nsPerUnit := int64(a.DataType().(*arrow.TimestampType).Unit.Multiplier())
		return appendInstants(b, a, a.TimestampValues(), nsPerUnit)
	case *array.Date32:
		vals := a.Date32Values()
		return appendConverted(b, a, func(i int) float64 { return float64(int64(vals[i]) * 86400) })
	case *array.Date64:
		return appendInstants(b, a, a.Date64Values(), 1e6)
	case *array.Null:
		for range a.Len() {
			b.num = append(b.num, math.NaN())
		}
		return nil
	}
	return b.errKind(a)
}

// appendInstants appends integer counts of nsPerUnit nanoseconds since
// the Unix epoch as Unix seconds.
func appendInstants[T ~int64](b *colBuilder, a arrow.Array, vals []T, nsPerUnit int64) error {
	perSec := int64(1e9) / nsPerUnit
	nulls := a.NullN() > 0
	for i, v := range vals {
		if nulls && a.IsNull(i) {
			b.num = append(b.num, math.NaN())
			continue
		}
		sec, rem := floorDiv(int64(v), perSec)
		b.num = append(b.num, unixFloat(sec, rem*nsPerUnit))
	}
	return nil
}

// appendDictionary appends a dictionary-encoded array: the dictionary is
// converted once, then each row is a lookup.
func (b *colBuilder) appendDictionary(d *array.Dictionary) error {
	dict := d.Dictionary()
	var remap []int32    // Categorical: dictionary index → code
	var values []float64 // Numeric, Datetime: dictionary index → value
	if b.kind == Categorical {
		remap = make([]int32, dict.Len())
		if labels := labelsOf(dict); labels != nil {
			for k := range remap {
				if dict.IsNull(k) {
					remap[k] = -1
				} else {
					remap[k] = b.intern(labels(k))
				}
			}
		} else {
			sub := &colBuilder{name: b.name, kind: Categorical}
			if err := sub.appendArray(dict); err != nil {
				return err
			}
			for k, code := range sub.codes {
				remap[k] = -1
				if code >= 0 {
					remap[k] = b.intern(sub.levels[code])
				}
			}
		}
	} else {
		sub := &colBuilder{name: b.name, kind: b.kind}
		if err := sub.appendArray(dict); err != nil {
			return err
		}
		values = sub.num
	}
	switch idx := d.Indices().(type) {
	case *array.Int8:
		return appendIndexed(b, idx, idx.Int8Values(), remap, values)
	case *array.Int16:
		return appendIndexed(b, idx, idx.Int16Values(), remap, values)
	case *array.Int32:
		return appendIndexed(b, idx, idx.Int32Values(), remap, values)
	case *array.Int64:
		return appendIndexed(b, idx, idx.Int64Values(), remap, values)
	case *array.Uint8:
		return appendIndexed(b, idx, idx.Uint8Values(), remap, values)
	case *array.Uint16:
		return appendIndexed(b, idx, idx.Uint16Values(), remap, values)
	case *array.Uint32:
		return appendIndexed(b, idx, idx.Uint32Values(), remap, values)
	case *array.Uint64:
		return appendIndexed(b, idx, idx.Uint64Values(), remap, values)
	}
	return fmt.Errorf("%w: dictionary indices of type %s", errCorrupt, d.Indices().DataType())
}

// dictIndex is the type of dictionary indices.
type dictIndex interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

// appendIndexed appends, for each index in idx (the values of indices),
// remap[index] to b.codes (Categorical) or values[index] to b.num.
func appendIndexed[T dictIndex](b *colBuilder, indices arrow.Array, idx []T, remap []int32, values []float64) error {
	n := len(values)
	if b.kind == Categorical {
		n = len(remap)
	}
	nulls := indices.NullN() > 0
	for i, v := range idx {
		if nulls && indices.IsNull(i) {
			if b.kind == Categorical {
				b.codes = append(b.codes, -1)
			} else {
				b.num = append(b.num, math.NaN())
			}
			continue
		}
		k := uint64(v)
		if k >= uint64(n) { // also catches negative signed indices
			return fmt.Errorf("%w: dictionary index %d out of range [0, %d)", errCorrupt, int64(v), n)
		}
		if b.kind == Categorical {
			b.codes = append(b.codes, remap[k])
		} else {
			b.num = append(b.num, values[k])
		}
	}
	return nil
}
