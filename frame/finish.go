package frame

import (
	"fmt"
	"math"
	"runtime"
	"unsafe"

	"github.com/tabforge/tabforge/internal/par"
)

// parallelCells is the fewest cells worth checking and converting on
// more than one goroutine: below it (a single-row request, say) the
// goroutines cost more than they save.
const parallelCells = 1 << 15

// eachColumn calls fn for every column index in [0, cols), on up to
// GOMAXPROCS goroutines when the table has at least parallelCells cells,
// and returns when all calls have returned.
func eachColumn(cols, cells int, fn func(j int)) {
	workers := runtime.GOMAXPROCS(0)
	if cells < parallelCells {
		workers = 1
	}
	par.Tasks(workers, cols, fn)
}

// push appends value s of the next row without checking it (check does,
// later). It reports false when the column's text would pass 4 GiB.
func (c *textColumn) push(s string, isMissing bool) bool {
	i := len(c.ends)
	if isMissing {
		for i/64 >= len(c.missing) {
			c.missing = append(c.missing, 0)
		}
		c.missing[i/64] |= 1 << (i % 64)
	} else {
		if uint64(len(c.buf))+uint64(len(s)) > math.MaxUint32 {
			return false
		}
		c.buf = append(c.buf, s...)
	}
	c.ends = append(c.ends, uint32(len(c.buf)))
	return true
}

// overflow is the error for a column whose text passes 4 GiB at row
// (1-based).
func (c *textColumn) overflow(row, line int) error {
	return &ParseError{Row: row, Line: line, Column: c.name, Err: fmt.Errorf("%w: column text exceeds 4 GiB", ErrUnsupported)}
}

// text returns value i as a string sharing c.buf, which no longer changes
// once the column is read: for parsing, whose results do not keep it.
func (c *textColumn) text(i int) string {
	b := c.cell(i)
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// check observes c's values in row order, as add does one by one, and
// returns the first error and its 0-based row (-1 for none). line(row)
// is the value's file line, called only to build an error. A column
// forced numeric keeps the numbers it parses (c.nums) for column, which
// would otherwise parse every value a second time.
func (c *textColumn) check(line func(row int) int) (int, error) {
	if c.forced && c.kind == Categorical {
		return -1, nil // every text is a valid label: nothing to observe
	}
	var nums []float64
	if c.forced && c.kind == Numeric {
		nums = make([]float64, len(c.ends))
	}
	for i := range len(c.ends) {
		if c.isMissing(i) {
			if nums != nil {
				nums[i] = math.NaN()
			}
			continue
		}
		if nums != nil {
			if v, res := parseNumber(c.text(i)); res == finiteNumber {
				nums[i] = v
				continue
			}
		}
		if err := c.observe(c.text(i), i+1, func() int { return line(i) }); err != nil {
			return i, err
		}
	}
	c.nums = nums
	return -1, nil
}

// finish checks and converts pushed text columns, column by column on
// up to GOMAXPROCS goroutines, and returns the frame or the error a read
// that checked every value as it came would have returned: the parse
// error of the earliest row (of its leftmost column), else stop (what
// ended the reading after the last row pushed, nil at the end of the
// data), else the first numeric column's infinite number. line(row, j)
// is the file line of row's value in column j.
func finish(cols []*textColumn, line func(row, j int) int, stop error) (*Frame, error) {
	return finishColumns(cols, line, stop, nil)
}

// finishColumns is finish for one block of a longer table (CSVBlocks)
// when observe is not nil: it is given every column the schema does not
// force, once checked, to merge its kind evidence (and infinite number)
// with the other blocks', since whether that number is an error depends
// on the kind of the whole column, not of the block.
func finishColumns(cols []*textColumn, line func(row, j int) int, stop error, observe func(j int, c *textColumn)) (*Frame, error) {
	type result struct {
		row int
		err error
	}
	res := make([]result, len(cols))
	out := make([]*Column, len(cols))
	rows := 0
	if len(cols) > 0 {
		rows = len(cols[0].ends)
	}
	eachColumn(len(cols), rows*len(cols), func(j int) {
		c := cols[j]
		row, err := c.check(func(row int) int { return line(row, j) })
		if err != nil {
			res[j] = result{row, err}
			return
		}
		if observe != nil && !c.forced {
			observe(j, c)
		} else if c.inf != nil && c.finalKind() == Numeric {
			res[j] = result{-1, c.inf}
			return
		}
		col, err := c.column()
		if err != nil {
			res[j] = result{-1, err}
			return
		}
		out[j] = col
		cols[j] = nil // release the text
	})
	first := -1
	for j, r := range res {
		if r.err != nil && r.row >= 0 && (first < 0 || r.row < res[first].row) {
			first = j
		}
	}
	switch {
	case first >= 0:
		return nil, res[first].err
	case stop != nil:
		return nil, stop
	}
	for _, r := range res {
		if r.err != nil {
			return nil, r.err
		}
	}
	return New(out...)
}
