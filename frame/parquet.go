package frame

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// errCorrupt reports a Parquet file that the reader could not make sense
// of or that contradicts itself.
var errCorrupt = errors.New("corrupt parquet file")

// julianUnixEpoch is the Julian day number of 1970-01-01, for INT96
// timestamps.
const julianUnixEpoch = 2440588

// ReadParquet reads a Parquet file with a flat schema through
// parquet-go's page readers. Column kinds follow the Parquet physical and
// logical (or legacy converted) types:
//
//   - integers (signed or unsigned, any width), decimals and floats
//     (FLOAT16 included) are Numeric; nulls and NaN are missing; TIME
//     columns are Numeric seconds since midnight; a column of the Parquet
//     UNKNOWN (always null) type is an all-missing Numeric column;
//   - strings, binary (fixed-length too; dictionary-encoded or not) and
//     booleans ("false"/"true") are Categorical, levels sorted
//     lexicographically; a value or column name that is not valid UTF-8
//     (binary data, or text in another encoding) is decoded whole as
//     Windows-1252, as in ReadCSV;
//   - DATE, TIMESTAMP (any unit, adjusted to UTC or not, read as UTC) and
//     legacy INT96 timestamps are Datetime (Unix seconds), with the UTC
//     offsets WriteParquet keeps in the file's metadata; one outside the
//     years 0 to 9999 (MinUnix to MaxUnix), which neither WriteCSV nor
//     WriteParquet can write, is an error wrapping ErrDatetimeRange that
//     names its row, column and year.
//
// opts.Schema converts columns to other kinds through their text form (so
// an integer area code can be Categorical), exactly as ReadCSV would read
// that text: a string converted to Numeric or Datetime is missing when it
// is one of opts.Missing's tokens (DefaultMissing: "", "NA", ...), as in
// a CSV file. Otherwise opts.Missing is ignored, since Parquet marks
// missing values itself; opts.ColumnMissing marks the labels of the
// string columns it names (see ReadOptions).
//
// The codecs UNCOMPRESSED, SNAPPY, GZIP, ZSTD, BROTLI and LZ4_RAW are
// read (not the legacy Hadoop LZ4 or LZO). Nested columns (lists, maps,
// structs, repeated fields) and types without a tabular meaning (INTERVAL)
// give an error wrapping ErrUnsupported. An infinite float is an error
// wrapping ErrInfinite, a file without rows wraps ErrNoRows. A file that
// makes the Parquet library panic (corrupt or hostile input) gives an
// error, not a panic. Pages the library would expand far beyond the
// file's rows (RLE runs longer than their page, a page of more values
// than its row group, a compressed page larger than its header says) are
// refused as corrupt before any value is decoded. A valid file whose
// table would take more memory than opts.MemoryLimit allows (its metadata
// may claim billions of rows of a constant column in a few kilobytes) is
// refused with ErrMemoryLimit, from its metadata and page headers, before
// any value is decoded (see frameBytes for the estimate).
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
	fh, size, err := openFile(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return readParquetFrom(fh, size, opts)
}

// readParquetFrom reads a Parquet file of size bytes from r. A panic
// inside parquet-go, which hostile input can cause, is turned into an
// error wrapping errCorrupt.
func readParquetFrom(r io.ReaderAt, size int64, opts ReadOptions) (f *Frame, err error) {
	defer func() {
		if recover() != nil {
			f, err = nil, readerPanic()
		}
	}()
	return decodeParquet(r, size, opts)
}

// readerPanic is the error of a panic inside parquet-go. The panic's
// value is left out: on one file parquet-go panics with different values
// (a bounds check of its own or the runtime's) depending on which buffer
// its pools recycle, and ParquetBlocks promises ReadParquet's error.
func readerPanic() error {
	return fmt.Errorf("%w: parquet reader failed on malformed data", errCorrupt)
}

func decodeParquet(r io.ReaderAt, size int64, opts ReadOptions) (*Frame, error) {
	pm, err := openParquet(r, size)
	if err != nil {
		return nil, err
	}
	// The metadata may claim billions of rows, consistently (a constant
	// column is one short RLE run per page, whatever its length): such a
	// file is valid, and reading it whole would end in an out-of-memory
	// kill, so the table's size is judged before any value is decoded.
	what := fmt.Sprintf("the table of %d rows and %d columns", pm.numRows, len(pm.leaves))
	if len(pm.leaves) == 1 {
		what = fmt.Sprintf("the table of %d rows and 1 column", pm.numRows)
	}
	if err := checkMemory(opts, pm.frameBytes(opts), what); err != nil {
		return nil, err
	}
	// Within a limit, the columns take their rows at once rather than
	// growing by copies, which would need twice the table for a moment.
	limited := opts.limited()
	out := make([]*Column, len(pm.leaves))
	for j := range pm.leaves {
		if out[j], err = readParquetColumn(pm.pf, j, &pm.leaves[j], pm.names[j], pm.numRows, limited); err != nil {
			return nil, err
		}
	}
	if err := readOffsets(pm.pf, out); err != nil {
		return nil, err
	}
	if err := checkSchemaNames(opts, out); err != nil {
		return nil, err
	}
	base := opts.missingSet()
	for j, c := range out {
		if out[j], err = opts.parquetColumn(c, opts.columnSet(base, c.Name)); err != nil {
			return nil, err
		}
	}
	return New(out...)
}

// parquetMeta is an opened Parquet file whose metadata has been checked.
type parquetMeta struct {
	pf      *parquet.File
	leaves  []format.SchemaElement
	names   []string
	numRows int64
	sizes   *pageSizes
}

// openParquet opens the Parquet file of size bytes in r and checks what
// its metadata says before any value is read: its magic, footer, flat
// schema, column names, pages (checkPages), rows (ErrNoRows for none)
// and row groups.
func openParquet(r io.ReaderAt, size int64) (*parquetMeta, error) {
	if err := checkMagic(r, size); err != nil {
		return nil, err
	}
	pf, err := parquet.OpenFile(r, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("parquet footer: %w", err)
	}
	md := pf.Metadata()
	leaves, err := flatColumns(md.Schema)
	if err != nil {
		return nil, err
	}
	names, err := columnNames(leaves)
	if err != nil {
		return nil, err
	}
	sizes, err := checkPages(r, size, md, leaves, names)
	if err != nil {
		return nil, err
	}
	if md.NumRows == 0 {
		return nil, ErrNoRows
	}
	if err := checkRowGroups(pf, md.NumRows, len(leaves)); err != nil {
		return nil, err
	}
	return &parquetMeta{pf: pf, leaves: leaves, names: names, numRows: md.NumRows, sizes: sizes}, nil
}

// checkRowGroups checks that the row groups add up to the file's rows and
// each holds one chunk per column.
func checkRowGroups(pf *parquet.File, numRows int64, numCols int) error {
	if numRows < 0 {
		return fmt.Errorf("%w: file has %d rows", errCorrupt, numRows)
	}
	var groupRows int64
	for g, rg := range pf.RowGroups() {
		n := rg.NumRows()
		if n < 0 || n > numRows-groupRows {
			return fmt.Errorf("%w: row group %d has %d rows, file %d", errCorrupt, g, n, numRows)
		}
		if got := len(rg.ColumnChunks()); got != numCols {
			return fmt.Errorf("%w: row group %d has %d columns, schema %d", errCorrupt, g, got, numCols)
		}
		groupRows += n
	}
	if groupRows != numRows {
		return fmt.Errorf("%w: row groups hold %d rows, file %d", errCorrupt, groupRows, numRows)
	}
	return nil
}

// readParquetColumn reads column j, named name, of every row group. With
// exact, the column reserves its numRows rows at once (numRows having
// passed the memory limit); otherwise no more than a million, numRows
// coming from the file.
func readParquetColumn(pf *parquet.File, j int, leaf *format.SchemaElement, name string, numRows int64, exact bool) (*Column, error) {
	dec, err := decoderFor(leaf)
	if err != nil {
		return nil, fmt.Errorf("column %q: %w", name, err)
	}
	b := &colBuilder{name: name, kind: dec.kind}
	if !exact {
		numRows = min(numRows, 1<<20)
	}
	b.reserve(numRows)
	for g, rg := range pf.RowGroups() {
		before := b.len()
		if err := readChunk(b, dec, rg.ColumnChunks()[j]); err != nil {
			return nil, fmt.Errorf("row group %d column %q: %w", g, b.name, err)
		}
		if got := int64(b.len() - before); got != rg.NumRows() {
			return nil, fmt.Errorf("%w: row group %d column %q has %d values, want %d", errCorrupt, g, b.name, got, rg.NumRows())
		}
	}
	return b.column(), nil
}

// checkMagic checks the "PAR1" magic at both ends of r, so that other
// files get a clear error, and refuses encrypted footers ("PARE" magic),
// which need keys tabforge does not have.
func checkMagic(r io.ReaderAt, size int64) error {
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
	switch {
	case string(head[:]) == "PAR1" && string(tail[:]) != "PAR1":
		// Writers put the footer last: a file cut short (a copy or an
		// upload that stopped, a writer still at work) starts like
		// Parquet and lacks only its end.
		return fmt.Errorf("%w: truncated: it starts with the PAR1 magic but does not end with it (a partial copy, or a file still being written?)", errCorrupt)
	case string(head[:]) != "PAR1" || string(tail[:]) != "PAR1":
		return errors.New("not a parquet file: no PAR1 magic")
	}
	return nil
}

// columnNames returns the leaves' column names, decoded as ReadCSV
// decodes a header (decodeText), and refuses empty and repeated names, as
// ReadCSV does: a frame's columns are found by name.
func columnNames(leaves []format.SchemaElement) ([]string, error) {
	names := make([]string, len(leaves))
	seen := make(map[string]int, len(leaves))
	for j, e := range leaves {
		name := decodeText(e.Name)
		if name == "" {
			return nil, &ParseError{Err: fmt.Errorf("column %d: %w", j+1, ErrEmptyName)}
		}
		if k, dup := seen[name]; dup {
			return nil, &ParseError{Column: name, Err: fmt.Errorf("%w (columns %d and %d)", ErrDuplicateName, k+1, j+1)}
		}
		seen[name], names[j] = j, name
	}
	return names, nil
}

// flatColumns returns the leaf columns of a schema whose top-level fields
// are all primitive, non-repeated columns, and refuses any other.
func flatColumns(elems []format.SchemaElement) ([]format.SchemaElement, error) {
	if len(elems) < 2 {
		return nil, fmt.Errorf("%w: no columns", errCorrupt)
	}
	leaves := elems[1:]
	for _, e := range leaves {
		if e.NumChildren.V > 0 || e.RepetitionType.V == format.Repeated {
			return nil, fmt.Errorf("column %q: %w: nested or repeated field", e.Name, ErrUnsupported)
		}
		if !e.Type.Valid {
			return nil, fmt.Errorf("%w: column %q has no physical type", errCorrupt, e.Name)
		}
	}
	if fields := int(elems[0].NumChildren.V); fields != len(leaves) {
		return nil, fmt.Errorf("%w: schema root has %d fields, %d columns follow", errCorrupt, fields, len(leaves))
	}
	return leaves, nil
}

// int96Unix converts a legacy INT96 timestamp (nanoseconds of the day,
// then the Julian day) to Unix seconds.
func int96Unix(v deprecated.Int96) float64 {
	nanos := int64(uint64(v[1])<<32 | uint64(v[0]))
	days := int64(int32(v[2]))
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
	base   int // the column's rows before the builder's first, for errors
	num    []float64
	codes  []int32
	levels []string
	index  map[string]int32
}

// reserve preallocates room for n rows.
func (b *colBuilder) reserve(n int64) {
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

// column returns the finished column, with categorical levels decoded
// and sorted (readerCategorical).
func (b *colBuilder) column() *Column {
	if b.kind == Categorical {
		return readerCategorical(b.name, b.codes, b.levels)
	}
	return &Column{Name: b.name, Kind: b.kind, Num: b.num}
}

// intern returns the code of label s, adding a copy of s as a level if it
// is new (s may point into a page buffer that is reused later).
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
