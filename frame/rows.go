package frame

import "fmt"

// ReadRows reads a table given as a header and rows of text cells, such
// as a JSON request decoded by a server, exactly as ReadCSV would read
// the same cells written as CSV (kinds, missing values, levels, errors),
// without the round trip through CSV text. Every row must have one cell
// per header name. Errors name the 1-based row; there are no lines.
func ReadRows(header []string, rows [][]string, opts ReadOptions) (*Frame, error) {
	f, err := readRows(header, rows, opts)
	if err != nil {
		return nil, fmt.Errorf("frame: read rows: %w", err)
	}
	return f, nil
}

// headerColumns checks a header given as text and returns its text
// columns.
func headerColumns(header []string, opts ReadOptions) ([]*textColumn, error) {
	if len(header) == 0 {
		return nil, ErrNoHeader
	}
	names := make([]string, len(header))
	for j, h := range header {
		names[j] = foldCRLF(h)
	}
	return newTextColumns(names, opts)
}

func readRows(header []string, rows [][]string, opts ReadOptions) (*Frame, error) {
	cols, err := headerColumns(header, opts)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, ErrNoRows
	}
	// Rows up to the first of the wrong length are read; that row's error
	// comes after any found in the rows before it, as in a row-by-row read.
	var stop error
	for i, rec := range rows {
		if len(rec) != len(cols) {
			stop = &ParseError{Row: i + 1, Err: fmt.Errorf("%d fields for %d columns", len(rec), len(cols))}
			rows = rows[:i]
			break
		}
	}
	for j, c := range cols { // size each column's text once, not by doubling
		size := 0
		for _, rec := range rows {
			size += len(rec[j])
		}
		c.buf, c.ends = make([]byte, 0, size), make([]uint32, 0, len(rows))
	}
	// Row by row, as the cells lie in memory; finish then checks and
	// converts each column's contiguous text.
	missing := opts.missingSets(cols)
	for i, rec := range rows {
		for j, s := range rec {
			s = foldCRLF(s)
			if !cols[j].push(s, missing[j].has(s)) {
				return nil, cols[j].overflow(i+1, 0)
			}
		}
	}
	return finish(cols, func(int, int) int { return 0 }, stop)
}
