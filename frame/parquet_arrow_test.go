package frame

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	pq "github.com/parquet-go/parquet-go"
	pqcompress "github.com/parquet-go/parquet-go/compress"
)

// parquetCodecs returns the codec of every column chunk of the Parquet
// file at path.
func parquetCodecs(t *testing.T, path string) map[compress.Compression]int {
	t.Helper()
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	out := map[compress.Compression]int{}
	for g := range pf.NumRowGroups() {
		rg := pf.MetaData().RowGroup(g)
		for j := range rg.NumColumns() {
			cc, err := rg.ColumnChunk(j)
			if err != nil {
				t.Fatal(err)
			}
			out[cc.Compression()]++
		}
	}
	return out
}

// codecTestFrame has a column of each kind, with missing values.
func codecTestFrame() *Frame {
	nan := math.NaN()
	n := 5000
	x := make([]float64, n)
	d := make([]float64, n)
	labels := make([]string, n)
	for i := range n {
		x[i] = float64(i%97) * 1.25
		d[i] = 1.7e9 + float64(i)*3600
		labels[i] = string(rune('a' + i%26))
		if i%13 == 0 {
			x[i], d[i], labels[i] = nan, nan, ""
		}
	}
	return MustNew(NewNumeric("x", x), NewDatetime("d", d), NewCategoricalFromStrings("c", labels))
}

// TestReadParquetCodecs writes files in every codec both parquet-go and
// arrow-go implement in pure Go, checks with arrow-go (Apache's reference
// Go implementation) that the file says so, and reads them back.
func TestReadParquetCodecs(t *testing.T) {
	f := codecTestFrame()
	dir := t.TempDir()
	for _, tt := range []struct {
		ours  pqcompress.Codec
		codec compress.Compression
	}{
		{&pq.Zstd, compress.Codecs.Zstd}, {&pq.Gzip, compress.Codecs.Gzip}, {&pq.Snappy, compress.Codecs.Snappy},
		{&pq.Brotli, compress.Codecs.Brotli}, {&pq.Lz4Raw, compress.Codecs.Lz4Raw}, {&pq.Uncompressed, compress.Codecs.Uncompressed},
	} {
		codec := tt.codec
		t.Run(codec.String(), func(t *testing.T) {
			path := filepath.Join(dir, codec.String()+".parquet")
			var buf bytes.Buffer
			if err := writeParquetTo(&buf, f, tt.ours, rowGroupRows); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			if got := parquetCodecs(t, path); got[codec] != f.NumCols() || len(got) != 1 {
				t.Fatalf("column chunk codecs %v; want %d × %s", got, f.NumCols(), codec)
			}
			g, err := ReadParquet(path, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if g.Hash() != f.Hash() {
				t.Errorf("hash changed through a %s file", codec)
			}
		})
	}
}

// TestWriteParquetFormat checks what WriteParquet puts in the file.
func TestWriteParquetFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.parquet")
	f := MustNew(
		NewNumeric("x", []float64{1, math.NaN()}),
		NewCategoricalFromStrings("c", []string{"a", ""}),
		NewCategorical("raw", []int32{0, 1}, []string{"\xff", "b"}),
		NewDatetime("ms", []float64{1.5, math.NaN()}),
		NewDatetime("us", []float64{1.000001, 0}),
		NewDatetime("ns", []float64{unixFloat(1, 1), 0}),
	)
	if err := WriteParquet(path, f); err != nil {
		t.Fatal(err)
	}
	if got := parquetCodecs(t, path); got[compress.Codecs.Zstd] != f.NumCols() {
		t.Errorf("codecs %v; want ZSTD everywhere", got)
	}
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	sc := pf.MetaData().Schema
	want := []struct {
		phys    parquet.Type
		logical string
	}{
		{parquet.Types.Double, "None"},
		{parquet.Types.ByteArray, "String"},
		{parquet.Types.ByteArray, "String"}, // "\xff" is written as "ÿ"
		{parquet.Types.Int64, "Timestamp(isAdjustedToUTC=true, timeUnit=milliseconds"},
		{parquet.Types.Int64, "Timestamp(isAdjustedToUTC=true, timeUnit=microseconds"},
		{parquet.Types.Int64, "Timestamp(isAdjustedToUTC=true, timeUnit=nanoseconds"},
	}
	for j, w := range want {
		c := sc.Column(j)
		if c.PhysicalType() != w.phys || !strings.HasPrefix(c.LogicalType().String(), w.logical) || c.SchemaNode().RepetitionType() != parquet.Repetitions.Optional {
			t.Errorf("column %q: %s %s %s; want optional %s %s", c.Name(), c.SchemaNode().RepetitionType(), c.PhysicalType(), c.LogicalType(), w.phys, w.logical)
		}
	}
	cc, err := pf.MetaData().RowGroup(0).ColumnChunk(1)
	if err != nil {
		t.Fatal(err)
	}
	if !cc.HasDictionaryPage() {
		t.Errorf("categorical column has no dictionary page")
	}
}

// TestParquetRowGroups reads a file of many small row groups, whose
// dictionaries differ from one group to the next.
func TestParquetRowGroups(t *testing.T) {
	n := 1000
	x := make([]float64, n)
	labels := make([]string, n)
	for i := range n {
		x[i] = float64(i)
		labels[i] = strings.Repeat("z", n-i) // each row group has new labels
		if i%9 == 0 {
			x[i], labels[i] = math.NaN(), ""
		}
	}
	f := MustNew(NewNumeric("x", x), NewCategoricalFromStrings("c", labels))
	var buf bytes.Buffer
	if err := writeParquetTo(&buf, f, &pq.Snappy, 64); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "groups.parquet")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := ReadParquet(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Hash() != f.Hash() {
		t.Errorf("hash changed through a file of %d-row groups", 64)
	}
}

// buildArray builds an array of type dt with fill.
func buildArray[B array.Builder](t *testing.T, dt arrow.DataType, fill func(B)) arrow.Array {
	t.Helper()
	b := array.NewBuilder(memory.DefaultAllocator, dt)
	defer b.Release()
	fill(b.(B))
	return b.NewArray()
}

// writeArrowFile writes the arrays as a Parquet file with arrow-go's
// writer, optionally storing the Arrow schema in the file.
func writeArrowFile(t *testing.T, path string, names []string, arrays []arrow.Array, storeSchema bool) {
	t.Helper()
	fields := make([]arrow.Field, len(arrays))
	for i, a := range arrays {
		fields[i] = arrow.Field{Name: names[i], Type: a.DataType(), Nullable: true}
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrays, int64(arrays[0].Len()))
	defer rec.Release()
	var opts []pqarrow.WriterOption
	if storeSchema {
		opts = append(opts, pqarrow.WithStoreSchema())
	}
	writeArrowFileWith(t, path, rec, parquet.NewWriterProperties(), pqarrow.NewArrowWriterProperties(opts...))
}

// writeArrowFileWith writes rec as a Parquet file with arrow-go's writer
// and the given properties.
func writeArrowFileWith(t *testing.T, path string, rec arrow.RecordBatch, props *parquet.WriterProperties, arrowProps pqarrow.ArrowWriterProperties) {
	t.Helper()
	var buf bytes.Buffer
	fw, err := pqarrow.NewFileWriter(rec.Schema(), &buf, props, arrowProps)
	if err != nil {
		t.Fatal(err)
	}
	if err := fw.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReadParquetArrowTypes reads a file of many Arrow types, as written
// by arrow-go with and without its stored Arrow schema.
func TestReadParquetArrowTypes(t *testing.T) {
	nan := math.NaN()
	type want struct {
		kind   Kind
		num    []float64
		labels []string // "" = missing
	}
	var names []string
	var arrays []arrow.Array
	var wants []want
	add := func(name string, a arrow.Array, w want) {
		names, arrays, wants = append(names, name), append(arrays, a), append(wants, w)
	}
	defer func() {
		for _, a := range arrays {
			a.Release()
		}
	}()
	add("int8", buildArray(t, arrow.PrimitiveTypes.Int8, func(b *array.Int8Builder) {
		b.AppendValues([]int8{1, 0, -3}, []bool{true, false, true})
	}), want{Numeric, []float64{1, nan, -3}, nil})
	add("uint64", buildArray(t, arrow.PrimitiveTypes.Uint64, func(b *array.Uint64Builder) {
		b.AppendValues([]uint64{1 << 63, 0, 7}, nil)
	}), want{Numeric, []float64{1 << 63, 0, 7}, nil})
	add("float32", buildArray(t, arrow.PrimitiveTypes.Float32, func(b *array.Float32Builder) {
		b.AppendValues([]float32{1.5, float32(nan), 0}, []bool{true, true, false})
	}), want{Numeric, []float64{1.5, nan, nan}, nil})
	add("float16", buildArray(t, arrow.FixedWidthTypes.Float16, func(b *array.Float16Builder) {
		b.AppendValues([]float16.Num{float16.New(0.5), float16.New(-2), {}}, []bool{true, true, false})
	}), want{Numeric, []float64{0.5, -2, nan}, nil})
	add("decimal", buildArray(t, &arrow.Decimal128Type{Precision: 10, Scale: 2}, func(b *array.Decimal128Builder) {
		b.AppendValues([]decimal128.Num{decimal128.FromI64(12345), decimal128.FromI64(-5), {}}, []bool{true, true, false})
	}), want{Numeric, []float64{123.45, -0.05, nan}, nil})
	add("time_ms", buildArray(t, &arrow.Time32Type{Unit: arrow.Millisecond}, func(b *array.Time32Builder) {
		b.AppendValues([]arrow.Time32{3600500, 0, 1}, []bool{true, false, true})
	}), want{Numeric, []float64{3600.5, nan, 0.001}, nil})
	add("null", buildArray(t, arrow.Null, func(b *array.NullBuilder) {
		b.AppendNulls(3)
	}), want{Numeric, []float64{nan, nan, nan}, nil})
	add("date32", buildArray(t, arrow.FixedWidthTypes.Date32, func(b *array.Date32Builder) {
		b.AppendValues([]arrow.Date32{19000, -1, 0}, []bool{true, true, false})
	}), want{Datetime, []float64{19000 * 86400, -86400, nan}, nil})
	add("ts_s_ny", buildArray(t, &arrow.TimestampType{Unit: arrow.Second, TimeZone: "America/New_York"}, func(b *array.TimestampBuilder) {
		b.AppendValues([]arrow.Timestamp{1700000000, -1, 0}, []bool{true, true, false})
	}), want{Datetime, []float64{1700000000, -1, nan}, nil})
	add("ts_ns_local", buildArray(t, &arrow.TimestampType{Unit: arrow.Nanosecond}, func(b *array.TimestampBuilder) {
		b.AppendValues([]arrow.Timestamp{1700000000123456789, -1, 0}, nil)
	}), want{Datetime, []float64{unixFloat(1700000000, 123456789), unixFloat(-1, 999999999), 0}, nil})
	add("bool", buildArray(t, arrow.FixedWidthTypes.Boolean, func(b *array.BooleanBuilder) {
		b.AppendValues([]bool{true, false, false}, []bool{true, false, true})
	}), want{Categorical, nil, []string{"true", "", "false"}})
	add("large_string", buildArray(t, arrow.BinaryTypes.LargeString, func(b *array.LargeStringBuilder) {
		b.AppendValues([]string{"b", "", "a"}, []bool{true, false, true})
	}), want{Categorical, nil, []string{"b", "", "a"}})
	// Bytes that are not UTF-8 read as Windows-1252 text (they were
	// refused), and "\xe9" is the same level as UTF-8 "é".
	add("binary", buildArray(t, arrow.BinaryTypes.Binary, func(b *array.BinaryBuilder) {
		b.AppendValues([][]byte{[]byte("é"), {0xff, 0x80}, {0xe9}}, nil)
	}), want{Categorical, nil, []string{"é", "ÿ€", "é"}})
	add("fixed", buildArray(t, &arrow.FixedSizeBinaryType{ByteWidth: 2}, func(b *array.FixedSizeBinaryBuilder) {
		b.AppendValues([][]byte{[]byte("ab"), nil, []byte("cd")}, []bool{true, false, true})
	}), want{Categorical, nil, []string{"ab", "", "cd"}})

	dir := t.TempDir()
	for _, stored := range []bool{false, true} {
		name := "plain"
		if stored {
			name = "stored-schema"
		}
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name+".parquet")
			writeArrowFile(t, path, names, arrays, stored)
			f, err := ReadParquet(path, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for j, w := range wants {
				c := f.Col(j)
				if c.Name != names[j] || c.Kind != w.kind || c.Len() != 3 {
					t.Errorf("column %d: %q %v with %d rows; want %q %v with 3", j, c.Name, c.Kind, c.Len(), names[j], w.kind)
					continue
				}
				for i := range 3 {
					if w.kind == Categorical {
						if c.Label(i) != w.labels[i] || c.IsMissing(i) != (w.labels[i] == "") {
							t.Errorf("%s row %d = %q (missing %v); want %q", c.Name, i, c.Label(i), c.IsMissing(i), w.labels[i])
						}
					} else if got := c.Num[i]; got != w.num[i] && !(math.IsNaN(got) && math.IsNaN(w.num[i])) {
						t.Errorf("%s row %d = %v; want %v", c.Name, i, got, w.num[i])
					}
				}
			}
		})
	}
}

// TestReadParquetDecimalStorage reads decimals of 18 digits stored as
// INT64 (as Spark stores precision up to 18) and as fixed-length byte
// arrays: both give the float64 nearest the decimal, the value ReadCSV
// reads from its text (INT64 ones were divided after a first rounding
// and could land an ulp away, so the same data hashed differently).
func TestReadParquetDecimalStorage(t *testing.T) {
	// Unscaled values past 2^53 whose rounded quotient differs from the
	// exact one's rounding (found by comparing both over random values).
	tests := []struct {
		scale    int32
		unscaled []int64
		text     []string
	}{
		{2, []int64{577006791947779410, -605394647632969758, 1}, []string{"5770067919477794.10", "-6053946476329697.58", "0.01"}},
		{6, []int64{-874068156324778273, 486140987150761883, 5}, []string{"-874068156324.778273", "486140987150.761883", "0.000005"}},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		dt := &arrow.Decimal128Type{Precision: 18, Scale: tt.scale}
		arr := buildArray(t, dt, func(b *array.Decimal128Builder) {
			for _, v := range tt.unscaled {
				b.Append(decimal128.FromI64(v))
			}
		})
		schema := arrow.NewSchema([]arrow.Field{{Name: "d", Type: dt, Nullable: true}}, nil)
		rec := array.NewRecordBatch(schema, []arrow.Array{arr}, int64(arr.Len()))
		for _, asInt := range []bool{true, false} {
			path := filepath.Join(dir, fmt.Sprintf("s%d-%v.parquet", tt.scale, asInt))
			writeArrowFileWith(t, path, rec, parquet.NewWriterProperties(parquet.WithStoreDecimalAsInteger(asInt)), pqarrow.DefaultWriterProps())
			f, err := ReadParquet(path, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range tt.text {
				want, _ := strconv.ParseFloat(s, 64)
				if got := f.Col(0).Num[i]; got != want {
					t.Errorf("scale %d stored as integer %v: row %d = %v; want %v (%s)", tt.scale, asInt, i, got, want, s)
				}
			}
		}
		rec.Release()
		arr.Release()
	}
}

func TestReadParquetArrowErrors(t *testing.T) {
	dir := t.TempDir()
	list := buildArray(t, arrow.ListOf(arrow.PrimitiveTypes.Int32), func(b *array.ListBuilder) {
		b.Append(true)
		b.ValueBuilder().(*array.Int32Builder).AppendValues([]int32{1, 2}, nil)
		b.AppendNull()
	})
	defer list.Release()
	inf := buildArray(t, arrow.PrimitiveTypes.Float64, func(b *array.Float64Builder) {
		b.AppendValues([]float64{1, math.Inf(1)}, nil)
	})
	defer inf.Release()
	listPath := filepath.Join(dir, "list.parquet")
	writeArrowFile(t, listPath, []string{"l"}, []arrow.Array{list}, false)
	infPath := filepath.Join(dir, "inf.parquet")
	writeArrowFile(t, infPath, []string{"x"}, []arrow.Array{inf}, false)
	finite := buildArray(t, arrow.PrimitiveTypes.Float64, func(b *array.Float64Builder) {
		b.AppendValues([]float64{1, 2}, nil)
	})
	defer finite.Release()
	latinPath := filepath.Join(dir, "latin.parquet")
	writeArrowFile(t, latinPath, []string{"caf\xe9", "café"}, []arrow.Array{finite, finite}, false)
	dupPath := filepath.Join(dir, "dup.parquet")
	writeArrowFile(t, dupPath, []string{"x", "x"}, []arrow.Array{finite, finite}, false)
	emptyPath := filepath.Join(dir, "empty.parquet")
	writeArrowFile(t, emptyPath, []string{"x", ""}, []arrow.Array{finite, finite}, false)
	for _, tt := range []struct {
		path   string
		target error
		msg    string
	}{
		{listPath, ErrUnsupported, `column "l": unsupported: nested`},
		{infPath, ErrInfinite, `row 2 column "x": infinite value`},
		// Named as ReadCSV names them in a header (it said "frame:" twice
		// and wrapped no sentinel).
		{dupPath, ErrDuplicateName, `dup.parquet: column "x": duplicate column name (columns 1 and 2)`},
		{emptyPath, ErrEmptyName, `empty.parquet: column 2: empty column name`},
		// A Latin-1 name is decoded before names are compared.
		{latinPath, ErrDuplicateName, `column "café": duplicate column name (columns 1 and 2)`},
	} {
		_, err := ReadParquet(tt.path, ReadOptions{})
		if !errors.Is(err, tt.target) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ReadParquet(%s) error = %v; want %v with %q", filepath.Base(tt.path), err, tt.target, tt.msg)
		}
	}
}
