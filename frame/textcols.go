package frame

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"unsafe"
)

// TextColumn is one column of text cells appended row by row, for a
// decoder that meets a table's cells in row order but can file each
// under its column as it goes (a JSON dataframe_split, say): its cells
// lie end to end in one buffer, as ReadCSV keeps them, so
// ReadTextColumns reads them in place, without a grid of strings and a
// second pass gathering it. The zero value is an empty column.
type TextColumn struct {
	buf  []byte   // the cells' text, end to end
	ends []uint32 // ends[i] is the end of cell i in buf
}

// Append adds cell b (copied) as the column's next row. It reports false,
// adding nothing, when the column's text would pass 4 GiB.
func (c *TextColumn) Append(b []byte) bool { return appendCell(c, b) }

// AppendString is Append for a cell given as a string.
func (c *TextColumn) AppendString(s string) bool { return appendCell(c, s) }

func appendCell[T string | []byte](c *TextColumn, s T) bool {
	if uint64(len(c.buf))+uint64(len(s)) > math.MaxUint32 {
		return false
	}
	c.buf = append(c.buf, s...)
	c.ends = append(c.ends, uint32(len(c.buf)))
	return true
}

// Reserve makes room for rows cells in all, their text estimated from
// the average length of the cells so far, so a caller that can estimate
// the number of rows spares append's doublings.
func (c *TextColumn) Reserve(rows int) {
	if n := len(c.ends); n > 0 && rows > n {
		c.buf = slices.Grow(c.buf, (rows-n)*len(c.buf)/n)
		c.ends = slices.Grow(c.ends, rows-n)
	}
}

// Reset empties the column, keeping its memory for the cells to come.
func (c *TextColumn) Reset() {
	c.buf, c.ends = c.buf[:0], c.ends[:0]
}

// Size returns the bytes the column's cells take (text and ends) and the
// bytes its buffers hold, for a pool deciding whether its memory is worth
// keeping.
func (c *TextColumn) Size() (used, held int) {
	return len(c.buf) + 4*len(c.ends), cap(c.buf) + 4*cap(c.ends)
}

// Len returns the number of cells.
func (c *TextColumn) Len() int { return len(c.ends) }

// Cell returns cell i's text (a copy).
func (c *TextColumn) Cell(i int) string {
	start := uint32(0)
	if i > 0 {
		start = c.ends[i-1]
	}
	return string(c.buf[start:c.ends[i]])
}

// ReadTextColumns reads a table given column by column, cols[j] the text
// cells of header[j], exactly as ReadRows reads the same cells given row
// by row (kinds, missing values, levels, errors). Every column must have
// the same number of cells. The columns are only read, never changed:
// the table can be read again, with other options.
func ReadTextColumns(header []string, cols []TextColumn, opts ReadOptions) (*Frame, error) {
	f, err := readTextColumns(header, cols, opts)
	if err != nil {
		return nil, fmt.Errorf("frame: read columns: %w", err)
	}
	return f, nil
}

func readTextColumns(header []string, text []TextColumn, opts ReadOptions) (*Frame, error) {
	cols, err := headerColumns(header, opts)
	if err != nil {
		return nil, err
	}
	if len(text) != len(cols) {
		return nil, fmt.Errorf("%d columns of cells for %d names", len(text), len(cols))
	}
	rows := text[0].Len()
	for j := range text {
		if n := text[j].Len(); n != rows {
			return nil, fmt.Errorf("column %q has %d cells, column %q %d", cols[j].name, n, cols[0].name, rows)
		}
	}
	if rows == 0 {
		return nil, ErrNoRows
	}
	missing := opts.missingSets(cols)
	eachColumn(len(cols), rows*len(cols), func(j int) { cols[j].share(&text[j], missing[j]) })
	return finish(cols, func(int, int) int { return 0 }, nil)
}

// share makes c read t's cells in place, marking the missing ones, as
// pushing them one by one would. The slices are clipped, so nothing c
// does can write into t. A column with a carriage return (a JSON "\r\n"
// escape, say) is pushed cell by cell instead, for foldCRLF.
func (c *textColumn) share(t *TextColumn, missing *missingSet) {
	if bytes.IndexByte(t.buf, '\r') >= 0 {
		c.buf, c.ends = make([]byte, 0, len(t.buf)), make([]uint32, 0, len(t.ends))
		for i := range t.ends {
			s := foldCRLF(t.Cell(i))
			c.push(s, missing.has(s)) // cannot overflow: folding only shortens
		}
		return
	}
	c.buf, c.ends = slices.Clip(t.buf), slices.Clip(t.ends)
	start := uint32(0)
	for i, end := range t.ends {
		if missing.has(c.span(start, end)) {
			c.setMissing(i)
		}
		start = end
	}
}

// span returns buf[start:end] as a string sharing c.buf, as text does.
func (c *textColumn) span(start, end uint32) string {
	if start == end {
		return ""
	}
	return unsafe.String(&c.buf[start], int(end-start))
}
