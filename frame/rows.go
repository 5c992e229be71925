package frame

import (
	"fmt"
	"runtime"
	"sync"
)

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
	return newTextColumns(names, opts.Schema, opts.SchemaOptional)
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
	missing := opts.missingSet()
	for i, rec := range rows {
		for j, s := range rec {
			s = foldCRLF(s)
			if !cols[j].push(s, missing.has(s)) {
				return nil, cols[j].overflow(i+1, 0)
			}
		}
	}
	return finish(cols, func(int, int) int { return 0 }, stop)
}

// ReadColumns reads a table given column by column, cells[j] the text
// cells of header[j], exactly as ReadRows reads the same cells given row
// by row. Every column must have the same number of cells. The columns
// are gathered on up to GOMAXPROCS goroutines, each reading its cells
// front to back: a decoder that can produce columns (a JSON
// dataframe_split, say) spares the serial row-by-row gathering.
func ReadColumns(header []string, cells [][]string, opts ReadOptions) (*Frame, error) {
	f, err := readColumns(header, cells, opts)
	if err != nil {
		return nil, fmt.Errorf("frame: read columns: %w", err)
	}
	return f, nil
}

// gatherColumns pushes the cells, given column by column, into cols and
// returns, per column, the 1-based row whose text passes 4 GiB (0: none;
// the column stops there). Above parallelCells the columns are split into
// one contiguous group per goroutine. Each group is gathered row by row,
// not column by column: a request's cells are slices of its body, where a
// row's cells lie side by side, so a row's cells come in a few cache
// lines instead of one miss per cell (gathering a 10,000-row, 73-column
// JSON request one column at a time spent most of its time on those).
func gatherColumns(cols []*textColumn, cells [][]string, missing *missingSet) []int {
	overflow := make([]int, len(cols))
	workers := min(runtime.GOMAXPROCS(0), len(cols))
	if len(cols)*len(cells[0]) < parallelCells {
		workers = 1
	}
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(cols)/workers, (w+1)*len(cols)/workers
		wg.Go(func() { gatherGroup(cols[lo:hi], cells[lo:hi], missing, overflow[lo:hi]) })
	}
	wg.Wait()
	return overflow
}

// gatherGroup is gatherColumns for one group of columns, row by row.
func gatherGroup(cols []*textColumn, cells [][]string, missing *missingSet, overflow []int) {
	for j, c := range cols {
		size := 0
		for _, s := range cells[j] {
			size += len(s)
		}
		c.buf, c.ends = make([]byte, 0, size), make([]uint32, 0, len(cells[j]))
	}
	for i := range len(cells[0]) {
		for j, c := range cols {
			if overflow[j] > 0 {
				continue
			}
			s := foldCRLF(cells[j][i])
			if !c.push(s, missing.has(s)) {
				overflow[j] = i + 1
			}
		}
	}
}

func readColumns(header []string, cells [][]string, opts ReadOptions) (*Frame, error) {
	cols, err := headerColumns(header, opts)
	if err != nil {
		return nil, err
	}
	if len(cells) != len(cols) {
		return nil, fmt.Errorf("%d columns of cells for %d names", len(cells), len(cols))
	}
	rows := len(cells[0])
	for j, c := range cells {
		if len(c) != rows {
			return nil, fmt.Errorf("column %q has %d cells, column %q %d", cols[j].name, len(c), cols[0].name, rows)
		}
	}
	if rows == 0 {
		return nil, ErrNoRows
	}
	overflow := gatherColumns(cols, cells, opts.missingSet())
	// A row-by-row read stops at the first cell that overflows: the
	// earliest row, its leftmost column.
	first := -1
	for j, row := range overflow {
		if row > 0 && (first < 0 || row < overflow[first]) {
			first = j
		}
	}
	if first >= 0 {
		return nil, cols[first].overflow(overflow[first], 0)
	}
	return finish(cols, func(int, int) int { return 0 }, nil)
}
