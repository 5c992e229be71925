package frame

import (
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
)

// CSVBlocks reads a CSV table a block of rows at a time, so that memory
// holds one block rather than the whole file: a model scoring a file of
// 50M rows needs the rows it is scoring now, not all of them.
//
// Every block is read as ReadCSV reads a whole file, with two
// differences that the whole file decides: a column that ReadOptions.Schema
// does not force has its kind inferred from the block's values alone (so
// it may differ from block to block: pin the columns whose kind matters),
// and an infinite number in such a column is an error only when the whole
// column reads as numeric, so it is reported at the end, by the Next that
// would return io.EOF. Kinds then returns each column's kind as ReadCSV
// infers it from every row. Errors name the file's row (counted over all
// blocks) and line, and are those ReadCSV returns for the same file, in the
// same order: a CSVBlocks reading a file to its end fails exactly when
// ReadCSV fails, with the same error.
type CSVBlocks struct {
	src     io.Reader
	closers []io.Closer
	name    string // the file, for errors ("" for a reader)
	cr      *csv.Reader
	header  []string
	forced  []*textColumn // the columns as the header made them: names and forced kinds
	missing []*missingSet // by column
	rows    int           // rows returned in the blocks so far

	// Evidence for the whole-file kind of every column Schema does not
	// force, gathered block by block.
	notNum, notDate []bool
	inf             []*ParseError // each column's first infinite number

	err error // sticky: the error or io.EOF that ended the reading
}

// OpenCSVBlocks opens the CSV file at path (.csv, or .csv.gz read
// through gzip) and reads its header. Errors name the file, as ReadFile's
// do. The caller must Close it.
func OpenCSVBlocks(path string, opts ReadOptions) (*CSVBlocks, error) {
	fh, _, err := openFile(path)
	if err != nil {
		return nil, fmt.Errorf("frame: read %s: %w", path, err)
	}
	var r io.Reader = fh
	closers := []io.Closer{fh}
	if formatOf(path) == formatCSVGzip {
		zr, err := gzip.NewReader(fh)
		if err != nil {
			fh.Close()
			return nil, fmt.Errorf("frame: read %s: %w", path, gzipError(err))
		}
		r, closers = gzipErrors{zr}, []io.Closer{zr, fh}
	}
	b, err := newCSVBlocks(r, opts)
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("frame: read %s: %w", path, err)
	}
	b.name, b.closers = path, closers
	return b, nil
}

// NewCSVBlocks reads the header of the CSV text r and returns a CSVBlocks
// for its rows. Errors are ReadCSV's.
func NewCSVBlocks(r io.Reader, opts ReadOptions) (*CSVBlocks, error) {
	b, err := newCSVBlocks(r, opts)
	if err != nil {
		return nil, fmt.Errorf("frame: read csv: %w", err)
	}
	return b, nil
}

func newCSVBlocks(r io.Reader, opts ReadOptions) (*CSVBlocks, error) {
	cr, cols, err := readHeader(r, opts)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(cols))
	for j, c := range cols {
		names[j] = c.name
	}
	n := len(cols)
	return &CSVBlocks{src: r, cr: cr, header: names, forced: cols, missing: opts.missingSets(cols),
		notNum: make([]bool, n), notDate: make([]bool, n), inf: make([]*ParseError, n)}, nil
}

// Names returns the column names of the header, in file order.
func (b *CSVBlocks) Names() []string { return b.header }

// Rows returns the number of rows in the blocks returned so far: the
// 0-based file row of the next block's first row.
func (b *CSVBlocks) Rows() int { return b.rows }

// Kinds returns each column's kind, in header order, as ReadCSV would
// read it from all the rows returned so far: the forced kind, or the kind
// inferred from every value. After Next has returned io.EOF, that is the
// kind ReadCSV gives the whole file.
func (b *CSVBlocks) Kinds() []Kind {
	out := make([]Kind, len(b.forced))
	for j, c := range b.forced {
		ev := textColumn{forced: c.forced, kind: c.kind, notNum: b.notNum[j], notDate: b.notDate[j]}
		out[j] = ev.finalKind()
	}
	return out
}

// Close closes the file OpenCSVBlocks opened; it does nothing for a
// CSVBlocks made by NewCSVBlocks.
func (b *CSVBlocks) Close() error {
	var first error
	for _, c := range b.closers {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	b.closers = nil
	return first
}

// Next reads up to maxRows rows (at least 1) and returns them as a frame.
// After the last row it returns io.EOF, or the error the whole file has
// (an infinite number in a column read as numeric); a file without rows
// is ErrNoRows. Once Next has returned an error it returns it again.
func (b *CSVBlocks) Next(maxRows int) (*Frame, error) {
	if b.err != nil {
		return nil, b.err
	}
	f, err := b.next(max(1, maxRows))
	if err != nil {
		if !errors.Is(err, io.EOF) {
			err = b.wrap(err)
		}
		b.err = err
		return nil, err
	}
	return f, nil
}

// wrap names the file in err, as ReadFile and ReadCSV do.
func (b *CSVBlocks) wrap(err error) error {
	if b.name == "" {
		return fmt.Errorf("frame: read csv: %w", err)
	}
	return fmt.Errorf("frame: read %s: %w", b.name, err)
}

func (b *CSVBlocks) next(maxRows int) (*Frame, error) {
	cols := make([]*textColumn, len(b.forced))
	for j, c := range b.forced {
		cols[j] = &textColumn{name: c.name, forced: c.forced, kind: c.kind, legacyDates: c.legacyDates}
	}
	var lines []int32
	spans := map[int][]int32{}
	rows := 0
	var stop error
	for rows < maxRows {
		rec, err := b.cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			stop = recordError(err, len(rec), len(cols))
			break
		}
		first, _ := b.cr.FieldPos(0)
		if last, _ := b.cr.FieldPos(len(rec) - 1); last != first {
			for j := range rec {
				l, _ := b.cr.FieldPos(j)
				spans[rows] = append(spans[rows], int32(l))
			}
		}
		lines = append(lines, int32(first))
		rows++
		for j, s := range rec {
			s = foldCRLF(s)
			if !cols[j].push(s, b.missing[j].has(s)) {
				l, _ := b.cr.FieldPos(j)
				return nil, cols[j].overflow(b.rows+rows, l)
			}
		}
	}
	if rows == 0 && stop == nil {
		return nil, b.end()
	}
	line := func(row, j int) int {
		if s, ok := spans[row]; ok {
			return int(s[j])
		}
		return int(lines[row])
	}
	f, err := finishColumns(cols, line, stop, b.observe)
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) && pe.Row > 0 {
			pe.Row += b.rows // check counts the block's rows from 1
		}
		return nil, err
	}
	b.rows += rows
	return f, nil
}

// observe merges the kind evidence of an unforced block column j into
// the whole file's, before finishColumns releases it.
func (b *CSVBlocks) observe(j int, c *textColumn) {
	b.notNum[j] = b.notNum[j] || c.notNum
	b.notDate[j] = b.notDate[j] || c.notDate
	if c.inf != nil && b.inf[j] == nil {
		c.inf.Row += b.rows
		b.inf[j] = c.inf
	}
}

// end is what Next returns after the last row: ReadCSV's error for a file
// without rows, or for the first column (in header order) that reads as
// numeric but holds an infinite number, else io.EOF.
func (b *CSVBlocks) end() error {
	if b.rows == 0 {
		return ErrNoRows
	}
	for j, k := range b.Kinds() {
		if b.inf[j] != nil && k == Numeric {
			return b.inf[j]
		}
	}
	return io.EOF
}
