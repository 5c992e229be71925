package frame

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// ReadCSV reads an RFC 4180 CSV table with a header row from r and infers
// each column's kind from all of its values:
//
//   - Numeric if every non-missing value parses as a decimal number (an
//     integer or a float; hexadecimal and "1_000" forms are text, and so
//     are grouped "1,000" and decimal-comma "1,5" forms, whose meaning
//     depends on a locale: NumberTexts names such columns);
//   - Datetime if every non-missing value is a date (2006-01-02 or
//     2006/01/02), an RFC 3339 timestamp (a space may stand for its T,
//     and seconds may be left out: 2006-01-02T15:04Z), or
//     2006-01-02T15:04:05 / 2006-01-02 15:04:05 / 2006/01/02 15:04:05
//     (UTC), seconds optional (2006-01-02 15:04). Dates written day or
//     month first (01/02/2006) stay text, as their reading depends on a
//     locale (see DateText);
//     the UTC offsets of RFC 3339 values are kept in Column.Offsets;
//   - Categorical otherwise, with levels sorted lexicographically.
//
// A column whose values are all missing is Numeric (all NaN). A label or
// column name that is not valid UTF-8 (a file saved as Latin-1 or
// Windows-1252, say) is decoded whole as Windows-1252, so that models,
// which keep labels as UTF-8 text, recognise them in the same file later;
// valid UTF-8 values are kept as they are, and a decoded label equal to
// another is the same level.
// opts.Schema overrides the inference per column. Values are taken
// verbatim: no whitespace is trimmed. A UTF-8 byte order mark is skipped,
// CRLF and CR-only (classic Mac OS) line ends are accepted, and completely
// blank lines are skipped (as encoding/csv does).
//
// ReadCSV returns an error wrapping ErrNoHeader for empty input, ErrNoRows
// for a header without data, and a *ParseError for malformed CSV (quotes,
// rows with the wrong number of fields), empty or duplicate column names,
// infinite numbers (ErrInfinite) and values that do not parse as a kind
// forced by opts.Schema.
//
// Memory: the input is read once, keeping each column's raw text in one
// contiguous buffer (about the size of the file plus 4 bytes per cell),
// which is then converted column by column. Once the rows read would
// take more than opts.MemoryLimit (text, ends and converted values
// counted), the read stops with an error wrapping ErrMemoryLimit.
func ReadCSV(r io.Reader, opts ReadOptions) (*Frame, error) {
	f, err := readCSV(r, opts)
	if err != nil {
		return nil, fmt.Errorf("frame: read csv: %w", err)
	}
	return f, nil
}

// utf16BOM reports whether data starts with a UTF-16 byte order mark:
// the file is not UTF-8, and reading it as such gives garbage fields.
// UTF-16 CSV text is mostly ASCII, so one of its first character's bytes
// is NUL: without one, bytes FE FF (which UTF-8 never holds) are just a
// malformed first field, read as bytes like any other field, as the
// writer writes it (FuzzReadCSV found a header "\xfe\xff" refused on
// re-reading).
func utf16BOM(data []byte) bool {
	if !bytes.HasPrefix(data, []byte("\xff\xfe")) && !bytes.HasPrefix(data, []byte("\xfe\xff")) {
		return false
	}
	return len(data) == 2 || (len(data) >= 4 && (data[2] == 0 || data[3] == 0))
}

// binaryFormats are the leading bytes of files users save as .csv by
// mistake (a workbook renamed, a compressed export), each with what the
// file is and what to do instead: read as text, their bytes gave errors
// such as `line 2: bare " in non-quoted-field`, which sent users looking
// for a stray quote in a file that is not text at all.
var binaryFormats = []struct{ magic, what string }{
	{"PK\x03\x04", "a ZIP archive, such as an Excel .xlsx or OpenDocument workbook: save the sheet as CSV (UTF-8) or Parquet"},
	{"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an OLE2 compound file, such as an Excel .xls workbook: save the sheet as CSV (UTF-8) or Parquet"},
	{"\x1f\x8b", "gzip-compressed: name it with the extension .csv.gz"},
	{"PAR1", "a Parquet file: name it with the extension .parquet"},
}

// binaryFormat describes the binary file data starts with, "" when it
// starts with none. Each of those formats holds NUL bytes near its start
// (header fields, a NUL-terminated name), which CSV text has no use for:
// requiring one keeps a text field that happens to start with the same
// letters ("PAR1") readable.
// It takes a string too, for the writer, without a copy.
func binaryFormat[T string | []byte](data T) string {
	head := data[:min(len(data), 512)]
	nul := false
	for i := range len(head) {
		if head[i] == 0 {
			nul = true
			break
		}
	}
	if !nul {
		return ""
	}
	for _, f := range binaryFormats {
		if len(head) >= len(f.magic) && string(head[:len(f.magic)]) == f.magic {
			return f.what
		}
	}
	return ""
}

// crToLF reads r with every CR turned into LF.
type crToLF struct{ r io.Reader }

func (c crToLF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i, b := range p[:n] {
		if b == '\r' {
			p[i] = '\n'
		}
	}
	return n, err
}

// TextReader returns CSV text from r as the readers take it: past a
// UTF-8 byte order mark, with classic Mac OS line ends (CR alone, which
// encoding/csv would read as one long line) read as LF, and buffered so
// that DetectComma sees its whole sample. UTF-16 text and the binary
// files of binaryFormats are errors.
func TextReader(r io.Reader) (*bufio.Reader, error) {
	br := bufio.NewReaderSize(r, sniffSample)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\uFEFF" {
		br.Discard(3) //nolint:errcheck // cannot fail after a successful Peek
	}
	if head, _ := br.Peek(4); utf16BOM(head) {
		return nil, errors.New("the file is UTF-16 encoded (it starts with a UTF-16 byte order mark); save it as UTF-8")
	}
	if head, _ := br.Peek(512); binaryFormat(head) != "" {
		return nil, fmt.Errorf("the file is not CSV text but %s", binaryFormat(head))
	}
	if sample, _ := br.Peek(sniffSample); bytes.IndexByte(sample, '\n') < 0 && bytes.IndexByte(sample, '\r') >= 0 {
		br = bufio.NewReaderSize(crToLF{br}, sniffSample)
	}
	return br, nil
}

// readHeader reads the header of the CSV text r and returns the reader
// positioned at its first row and a column per header field, with the
// kinds opts.Schema forces.
func readHeader(r io.Reader, opts ReadOptions) (*csv.Reader, []*textColumn, error) {
	br, err := TextReader(r)
	if err != nil {
		return nil, nil, err
	}
	cr := csv.NewReader(br)
	cr.Comma = opts.Comma
	if cr.Comma == 0 {
		cr.Comma = DetectComma(br)
	}
	cr.FieldsPerRecord = 0
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, ErrNoHeader
	}
	if err != nil {
		return nil, nil, csvError(err)
	}
	for j := range header {
		header[j] = foldCRLF(header[j])
	}
	cols, err := newTextColumns(header, opts)
	if err != nil {
		return nil, nil, err
	}
	return cr, cols, nil
}

func readCSV(r io.Reader, opts ReadOptions) (*Frame, error) {
	cr, cols, err := readHeader(r, opts)
	if err != nil {
		return nil, err
	}
	missing := opts.missingSets(cols)

	// Values are checked and converted after the reading, column by
	// column (finish); lines keeps each row's line, and spans the lines
	// of each value of a row that spans several, for the errors.
	var lines []int32
	spans := map[int][]int32{}
	rows := 0
	var stop error
	// A CSV file cannot claim much more than its bytes: each cell takes
	// at least one (its separator), so its table takes at most about 16
	// times the file (csvBytes: 12 bytes a cell, 4 a row). Its gzip
	// compression can be a thousand times smaller (1,028 to 1 for rows of
	// "0,0"), so the table is counted as the rows are read.
	budget, text := newMemoryBudget(opts), 0
	over := func(_, limit string) string {
		return fmt.Sprintf("the table passes the read memory limit of %s at row %d, line %d", limit, rows, lines[rows-1])
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			stop = recordError(err, len(rec), len(cols))
			break
		}
		first, _ := cr.FieldPos(0)
		if last, _ := cr.FieldPos(len(rec) - 1); last != first {
			for j := range rec {
				l, _ := cr.FieldPos(j)
				spans[rows] = append(spans[rows], int32(l))
			}
		}
		lines = append(lines, int32(first))
		rows++
		for j, s := range rec {
			s = foldCRLF(s)
			isMissing := missing[j].has(s)
			if !cols[j].push(s, isMissing) {
				l, _ := cr.FieldPos(j)
				return nil, cols[j].overflow(rows, l)
			}
			if !isMissing {
				text += len(s)
			}
		}
		if err := budget.check(csvBytes(text, rows, len(cols)), over); err != nil {
			return nil, err
		}
	}
	if rows == 0 && stop == nil {
		return nil, ErrNoRows
	}
	levels := newLevelBudget(opts, csvBytes(text, rows, len(cols)))
	for _, c := range cols {
		c.levels = levels
	}
	line := func(row, j int) int {
		if s, ok := spans[row]; ok {
			return int(s[j])
		}
		return int(lines[row])
	}
	return finish(cols, line, stop)
}

// foldCRLF finishes what encoding/csv starts: inside a quoted field it
// turns "\r\n" into "\n" once, so "\r\r\n" reads as "\r\n", which would
// read back as "\n" after a write. Folding until no "\r\n" is left makes
// reading idempotent, so a frame survives WriteCSV and ReadCSV unchanged.
func foldCRLF(s string) string {
	if strings.IndexByte(s, '\r') < 0 { // the common case, checked cheaply
		return s
	}
	for strings.Contains(s, "\r\n") {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	return s
}

// csvError converts an encoding/csv error into a *ParseError.
func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ParseError{Line: pe.Line, Err: pe.Err}
	}
	return err
}

// recordError is csvError for a data record of got fields under a
// header of want: a record of the wrong length says both counts, which
// encoding/csv leaves out, so that a user can tell a missing field from
// an unquoted separator without counting commas.
func recordError(err error, got, want int) error {
	err = csvError(err)
	var pe *ParseError
	if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
		unit := "fields"
		if got == 1 {
			unit = "field"
		}
		pe.Err = fmt.Errorf("%d %s where the header has %d: %w", got, unit, want, csv.ErrFieldCount)
	}
	return err
}

// emptyNameError says what to do about the empty name of header field j
// (0-based) of n. An empty first name is the header of the row numbers R's
// write.csv writes by default, the most common way a file gets one; an
// empty last one, of a separator ending every line, as some exports
// write (pandas reads it as an "Unnamed" column of missing values).
func emptyNameError(j, n int) error {
	switch {
	case j == 0:
		return fmt.Errorf("field 1: %w: name every column in the header; a file from R's write.csv has row numbers "+
			"there unless written with row.names = FALSE", ErrEmptyName)
	case j == n-1:
		return fmt.Errorf("field %d: %w: the header ends with a separator; if every line does (a trailing separator), "+
			"remove it from the lines, else name the last column", j+1, ErrEmptyName)
	}
	return fmt.Errorf("field %d: %w: name every column in the header", j+1, ErrEmptyName)
}

// newTextColumns validates header names and the schema overrides of
// opts.
func newTextColumns(header []string, opts ReadOptions) ([]*textColumn, error) {
	schema := opts.Schema
	seen := make(map[string]int, len(header))
	cols := make([]*textColumn, len(header))
	for j, name := range header {
		name = decodeText(name)
		if name == "" {
			return nil, &ParseError{Line: 1, Err: emptyNameError(j, len(header))}
		}
		if k, dup := seen[name]; dup {
			return nil, &ParseError{Line: 1, Column: name, Err: fmt.Errorf("%w (fields %d and %d)", ErrDuplicateName, k+1, j+1)}
		}
		seen[name] = j
		c := &textColumn{name: name, legacyDates: opts.LegacyDatetimes}
		if k, ok := schema[name]; ok {
			if k > Datetime {
				return nil, fmt.Errorf("schema for column %q: invalid kind %v", name, k)
			}
			c.forced, c.kind = true, k
		}
		cols[j] = c
	}
	for name := range schema {
		if _, ok := seen[name]; !ok && !opts.SchemaOptional {
			return nil, fmt.Errorf("schema names column %q, which is not in the header", name)
		}
	}
	return cols, nil
}

// textColumn accumulates one column's raw text and the evidence for its
// kind.
type textColumn struct {
	name    string
	buf     []byte    // all values, concatenated
	ends    []uint32  // ends[i] is the end of value i in buf
	missing []uint64  // bit set of missing rows
	nums    []float64 // the values of a column forced numeric, parsed by check; nil otherwise

	forced bool // kind comes from the schema, not inference
	kind   Kind // the forced kind

	notNum  bool        // some non-missing value is not a number
	notDate bool        // some non-missing value is not a datetime
	inf     *ParseError // first infinite number, reported if the column ends up numeric

	// legacyDates infers datetimes as readers before minute-resolution
	// and slash forms did (ReadOptions.LegacyDatetimes).
	legacyDates bool

	levels *levelBudget // counts the distinct labels column builds; nil counts none
}

// add appends value s of data row `row` (1-based). line reports the value's
// file line; it is called only to build an error.
func (c *textColumn) add(s string, isMissing bool, row int, line func() int) error {
	i := len(c.ends)
	if isMissing {
		for i/64 >= len(c.missing) {
			c.missing = append(c.missing, 0)
		}
		c.missing[i/64] |= 1 << (i % 64)
	} else {
		if err := c.observe(s, row, line); err != nil {
			return err
		}
		if uint64(len(c.buf))+uint64(len(s)) > math.MaxUint32 {
			return &ParseError{Row: row, Line: line(), Column: c.name, Err: fmt.Errorf("%w: column text exceeds 4 GiB", ErrUnsupported)}
		}
		c.buf = append(c.buf, s...)
	}
	c.ends = append(c.ends, uint32(len(c.buf)))
	return nil
}

// observe checks non-missing value s against the forced kind, or updates
// the evidence for inference.
func (c *textColumn) observe(s string, row int, line func() int) error {
	if c.forced {
		switch c.kind {
		case Numeric:
			switch _, res := parseNumber(s); res {
			case notNumber:
				return &ParseError{Row: row, Line: line(), Column: c.name, Err: notNumeric(s)}
			case infiniteNumber:
				return &ParseError{Row: row, Line: line(), Column: c.name, Err: fmt.Errorf("%w %q", ErrInfinite, s)}
			}
		case Datetime:
			if _, ok := parseDatetime(s); !ok {
				return &ParseError{Row: row, Line: line(), Column: c.name, Err: fmt.Errorf("%w: %q", ErrNotDatetime, s)}
			}
		}
		return nil
	}
	if !c.notNum {
		switch _, res := parseNumber(s); res {
		case notNumber:
			c.notNum = true
		case infiniteNumber:
			if c.inf == nil {
				c.inf = &ParseError{Row: row, Line: line(), Column: c.name, Err: fmt.Errorf("%w %q", ErrInfinite, s)}
			}
		}
	}
	if !c.notDate {
		if _, _, ok := parseDatetimeText(s, c.legacyDates); !ok {
			c.notDate = true
		}
	}
	return nil
}

func (c *textColumn) finalKind() Kind {
	switch {
	case c.forced:
		return c.kind
	case !c.notNum:
		return Numeric
	case !c.notDate:
		return Datetime
	}
	return Categorical
}

func (c *textColumn) isMissing(i int) bool {
	return i/64 < len(c.missing) && c.missing[i/64]&(1<<(i%64)) != 0
}

func (c *textColumn) cell(i int) []byte {
	start := uint32(0)
	if i > 0 {
		start = c.ends[i-1]
	}
	return c.buf[start:c.ends[i]]
}

// column converts c to a typed column. Every value has been validated by
// observe, so conversion cannot fail; only c.levels can refuse a
// categorical column's distinct labels, with ErrMemoryLimit.
func (c *textColumn) column() (*Column, error) {
	n := len(c.ends)
	if c.nums != nil {
		return NewNumeric(c.name, c.nums), nil
	}
	switch k := c.finalKind(); k {
	case Numeric:
		v := make([]float64, n)
		for i := range v {
			if c.isMissing(i) {
				v[i] = math.NaN()
				continue
			}
			v[i], _ = parseNumber(c.text(i))
		}
		return NewNumeric(c.name, v), nil
	case Datetime:
		return c.datetimeColumn(), nil
	}
	index := make(map[string]int32)
	var levels []string
	codes := make([]int32, n)
	prev, prevCode := []byte(nil), int32(-1)
	counted, pending := 0, 0.0 // labels counted in c.levels, bytes not yet
	for i := range codes {
		if c.isMissing(i) {
			codes[i] = -1
			continue
		}
		// Runs of one label are common (a dominant level, sorted data):
		// comparing with the last label is cheaper than hashing.
		b := c.cell(i)
		if prevCode >= 0 && string(b) == string(prev) {
			codes[i] = prevCode
			continue
		}
		code, ok := index[string(b)]
		if !ok {
			code = int32(len(levels))
			s := string(b)
			index[s] = code
			levels = append(levels, s)
			// Counted in batches, not to take a lock per label.
			if pending += float64(len(s) + labelKept + labelBuilding); len(levels)-counted == 4096 {
				if err := c.levels.add(pending); err != nil {
					return nil, fmt.Errorf("column %q: %w", c.name, err)
				}
				counted, pending = len(levels), 0
			}
		}
		codes[i], prev, prevCode = code, b, code
	}
	if err := c.levels.add(pending); err != nil {
		return nil, fmt.Errorf("column %q: %w", c.name, err)
	}
	col := readerCategorical(c.name, codes, levels)
	// The index is garbage now; the labels stay.
	return col, c.levels.add(-float64(len(levels) * labelBuilding))
}

// datetimeColumn parses c's values as datetimes, keeping the offsets they
// were written with when any is not zero (see Column.Offsets).
func (c *textColumn) datetimeColumn() *Column {
	n := len(c.ends)
	v := make([]float64, n)
	var offsets []int32 // allocated at the first non-zero offset
	for i := range v {
		if c.isMissing(i) {
			v[i] = math.NaN()
			continue
		}
		var off int32
		v[i], off, _ = parseDatetimeOffset(c.text(i))
		if off != 0 && offsets == nil {
			offsets = make([]int32, n)
		}
		if offsets != nil {
			offsets[i] = off
		}
	}
	col := NewDatetime(c.name, v)
	col.Offsets = offsets
	return col
}

// sortLevels reorders c's levels lexicographically, remapping the codes in
// place, and returns c.
func sortLevels(c *Column) *Column {
	if slices.IsSorted(c.Levels) {
		return c
	}
	order := make([]int32, len(c.Levels))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(c.Levels[a], c.Levels[b]) })
	remap := make([]int32, len(order))
	levels := make([]string, len(order))
	for newCode, old := range order {
		remap[old] = int32(newCode)
		levels[newCode] = c.Levels[old]
	}
	for i, code := range c.Codes {
		if code >= 0 {
			c.Codes[i] = remap[code]
		}
	}
	c.Levels = levels
	return c
}
