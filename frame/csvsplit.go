package frame

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"math/bits"
	"runtime"
	"slices"

	"github.com/tabforge/tabforge/internal/par"
)

// splitMin is the smallest input ReadCSVBytes parses in pieces: below it
// the goroutines cost more than the serial parse they spare. A
// 10,000-row ames request is 4.3 MB, and its serial ReadCSV took about
// 37 of the request's 100 ms on 2 cores (BenchmarkReadCSV10k).
const splitMin = 1 << 20

// ReadCSVBytes is ReadCSV for a CSV text held in memory, such as a
// request body. From 1 MiB on, and with more than one CPU, it parses the
// rows in up to GOMAXPROCS pieces of 256 KiB or more at once, cut after
// newlines; a piece that does not parse cleanly (a cut inside a quoted
// field, say) or any error at all sends the whole input through ReadCSV
// instead, so the frame and the errors are always ReadCSV's.
func ReadCSVBytes(data []byte, opts ReadOptions) (*Frame, error) {
	// Pieces of at least splitMin/4 bytes each: many small pieces on a
	// big machine would each pay for a reader and a set of columns.
	if pieces := min(runtime.GOMAXPROCS(0), 4*len(data)/splitMin); len(data) >= splitMin && pieces > 1 {
		if f, ok := readCSVSplit(data, opts, pieces); ok {
			return f, nil
		}
	}
	return ReadCSV(bytes.NewReader(data), opts)
}

// readCSVSplit reads data as readCSV does, its rows parsed in up to
// pieces parts at once; ok is false when the input must be read serially
// (for its error, or because a cut was not between two records).
//
// Why a clean parse of every piece proves the cuts: the first piece
// starts where the header ends, a record boundary. A piece that starts at
// a record boundary is read by a fresh csv.Reader exactly as the serial
// reader reads the same bytes, since the reader carries nothing from one
// record to the next but line numbers. Its last byte is the newline after
// the cut; if that newline were inside a quoted field the piece would end
// in an open quote, which encoding/csv reports (ErrQuote) without
// LazyQuotes; outside quotes it ends a record. So the next piece starts
// at a record boundary too, and the pieces' records, in order, are the
// serial reader's.
func readCSVSplit(data []byte, opts ReadOptions, pieces int) (*Frame, bool) {
	if utf16BOM(data) || binaryFormat(data) != "" {
		return nil, false // the serial reader says what is wrong
	}
	if bytes.HasPrefix(data, []byte("\uFEFF")) {
		data = data[3:]
	}
	comma := opts.Comma
	if comma == 0 {
		// The same sample readCSV's reader gives DetectComma.
		comma = DetectComma(bufio.NewReaderSize(bytes.NewReader(data), 1<<16))
	}
	hr := csv.NewReader(bytes.NewReader(data))
	hr.Comma = comma
	header, err := hr.Read()
	if err != nil {
		return nil, false
	}
	cols, err := headerColumns(header, opts)
	if err != nil {
		return nil, false
	}
	cuts := splitCuts(data, int(hr.InputOffset()), pieces)
	parts := make([][]*textColumn, len(cuts)-1)
	missing := opts.missingSets(cols)
	var wg par.Group // a panic in a piece reaches the caller's goroutine
	for p := range parts {
		wg.Go(func() { parts[p] = parsePiece(data[cuts[p]:cuts[p+1]], comma, len(cols), missing) })
	}
	wg.Wait()
	if slices.ContainsFunc(parts, func(p []*textColumn) bool { return p == nil }) || !joinColumns(cols, parts) {
		return nil, false
	}
	text := 0
	for _, c := range cols {
		text += len(c.buf)
	}
	// readCSV's count after the last row: a table it refuses is refused
	// by it, with its error.
	if checkMemory(opts, csvBytes(text, len(cols[0].ends), len(cols)), "") != nil {
		return nil, false
	}
	levels := newLevelBudget(opts, csvBytes(text, len(cols[0].ends), len(cols)))
	for _, c := range cols {
		c.levels = levels
	}
	f, err := finish(cols, func(int, int) int { return 0 }, nil)
	if err != nil {
		return nil, false // ReadCSV's error names the line
	}
	return f, true
}

// splitCuts returns the offsets bounding the pieces of data[start:]:
// start, then the end of the first newline at or after each even share,
// then len(data). Shares that fall in the same line give one cut.
func splitCuts(data []byte, start, pieces int) []int {
	cuts := []int{start}
	for k := 1; k < pieces; k++ {
		at := start + k*(len(data)-start)/pieces
		if at < cuts[len(cuts)-1] {
			continue
		}
		i := bytes.IndexByte(data[at:], '\n')
		if i < 0 {
			break
		}
		if cut := at + i + 1; cut > cuts[len(cuts)-1] && cut < len(data) {
			cuts = append(cuts, cut)
		}
	}
	return append(cuts, len(data))
}

// parsePiece reads the records of piece, each of fields fields, into
// text columns as readCSV does; nil means some error, including a piece
// that ends inside a quoted field.
func parsePiece(piece []byte, comma rune, fields int, missing []*missingSet) []*textColumn {
	r := csv.NewReader(bytes.NewReader(piece))
	r.Comma = comma
	r.FieldsPerRecord = fields
	r.ReuseRecord = true
	rows := bytes.Count(piece, []byte{'\n'}) + 1 // at least the records
	// The piece's text less its separators is split among the columns;
	// an even share each as a start saves most of append's doublings.
	share := len(piece) / max(fields, 1)
	cols := make([]*textColumn, fields)
	for j := range cols {
		cols[j] = &textColumn{buf: make([]byte, 0, share), ends: make([]uint32, 0, rows)}
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return cols
		}
		if err != nil {
			return nil
		}
		for j, s := range rec {
			s = foldCRLF(s)
			if !cols[j].push(s, missing[j].has(s)) {
				return nil
			}
		}
	}
}

// joinColumns appends the pieces' columns, in order, to cols (empty),
// the columns shared out among goroutines; false: some column's text
// passes 4 GiB, or there are no rows.
func joinColumns(cols []*textColumn, parts [][]*textColumn) bool {
	rows := 0
	for _, p := range parts {
		rows += len(p[0].ends)
	}
	if rows == 0 {
		return false // ReadCSV's ErrNoRows
	}
	ok := make([]bool, len(cols))
	eachColumn(len(cols), rows*len(cols), func(j int) {
		size := 0
		for _, p := range parts {
			size += len(p[j].buf)
		}
		if uint64(size) > math.MaxUint32 {
			return
		}
		c := cols[j]
		c.buf, c.ends = make([]byte, 0, size), make([]uint32, 0, rows)
		for _, p := range parts {
			pc, row0, base := p[j], len(c.ends), uint32(len(c.buf))
			c.buf = append(c.buf, pc.buf...)
			for _, e := range pc.ends {
				c.ends = append(c.ends, base+e)
			}
			for w, word := range pc.missing {
				for ; word != 0; word &= word - 1 {
					c.setMissing(row0 + w*64 + bits.TrailingZeros64(word))
				}
			}
		}
		ok[j] = true
	})
	return !slices.Contains(ok, false)
}

// setMissing marks row i missing, as push does.
func (c *textColumn) setMissing(i int) {
	for i/64 >= len(c.missing) {
		c.missing = append(c.missing, 0)
	}
	c.missing[i/64] |= 1 << (i % 64)
}
