package frame

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
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
// arrow-go's column readers (parquet/file). Column kinds follow the
// Parquet physical and logical types:
//
//   - integers (signed or unsigned, any width), decimals and floats
//     (FLOAT16 included) are Numeric; nulls and NaN are missing; TIME
//     columns are Numeric seconds since midnight; a column of the Parquet
//     UNKNOWN (always null) type is an all-missing Numeric column;
//   - strings, binary (fixed-length too; dictionary-encoded or not) and
//     booleans ("false"/"true") are Categorical, levels sorted
//     lexicographically;
//   - DATE, TIMESTAMP (any unit, adjusted to UTC or not, read as UTC) and
//     legacy INT96 timestamps are Datetime (Unix seconds).
//
// opts.Schema converts columns to other kinds through their text form (so
// an integer area code can be Categorical), exactly as ReadCSV would read
// that text; opts.Missing is ignored, since Parquet marks missing values
// itself.
//
// Every compression codec arrow-go implements in pure Go is read:
// UNCOMPRESSED, SNAPPY, GZIP, ZSTD, BROTLI and LZ4_RAW (not the legacy
// Hadoop LZ4 or LZO). Nested columns (lists, maps, structs, repeated
// fields) and types without a tabular meaning (INTERVAL) give an error
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

	groups := pf.MetaData().RowGroups
	out := make([]*Column, sc.NumColumns())
	for j := range out {
		descr := sc.Column(j)
		dec, err := decoderFor(descr)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", descr.Name(), err)
		}
		b := &colBuilder{name: descr.Name(), kind: dec.kind}
		b.reserve(numRows)
		for g, rg := range groups {
			before := b.len()
			ccr, err := pf.RowGroup(g).Column(j)
			if err == nil {
				err = dec.read(b, ccr, descr.MaxDefinitionLevel())
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
