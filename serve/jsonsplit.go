package serve

import (
	"encoding/json"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"
)

// fastSplit decodes the common body {"dataframe_split": {"columns":
// [...], "data": [[...], ...]}} straight into text cells, with one pass
// over the bytes and no boxed values: for a 10,000-row request it is
// several times faster than encoding/json's map-and-interface decoding,
// which dominated the time of a large request. It takes only bodies it
// can read without doubt (that key alone at the top, the inner keys
// "columns", "data" and anything else skipped, scalars in the cells) and
// returns ok false for anything else, including malformed JSON, so the
// general decoder handles it and reports any error: cells are the same
// text either way (a number's literal text, a string's value, true,
// false, "" for null). The cells come column by column, cells[j] the
// values of the rows' j-th field, so the table can be read one column
// per goroutine; ragged rows are left to the general decoder.
func fastSplit(body []byte) (columns []string, cells [][]string, ok bool) {
	columns, cells, _, ok = fastSplitPieces(body, runtime.GOMAXPROCS(0), splitMin)
	return columns, cells, ok
}

// fastSplitPieces is fastSplit scanning a data array of minBytes or
// more in up to pieces parts at once; split is the number of parts it
// used (1: read serially), for tests.
func fastSplitPieces(body []byte, pieces, minBytes int) (columns []string, cells [][]string, split int, ok bool) {
	p := &jscan{s: string(body), pieces: pieces, splitMin: minBytes}
	if !p.byte('{') || p.key() != "dataframe_split" || !p.byte('{') {
		return nil, nil, 0, false
	}
	seen := map[string]bool{}
	for first := true; ; first = false {
		if p.byte('}') {
			break
		}
		if !first && !p.byte(',') {
			return nil, nil, 0, false
		}
		k := p.key()
		if p.bad || seen[k] {
			return nil, nil, 0, false
		}
		seen[k] = true
		switch k {
		case "columns":
			columns = p.stringArray()
		case "data":
			cells = p.columnsData()
		default:
			p.skip()
		}
		if p.bad {
			return nil, nil, 0, false
		}
	}
	if !p.byte('}') || !p.end() || columns == nil || cells == nil {
		return nil, nil, 0, false
	}
	return columns, cells, p.pieces, true
}

// jscan reads JSON from s; bad records the first error, after which
// every method does nothing. columnsData scans a data array of splitMin
// bytes or more in up to pieces parts at once, and sets pieces to the
// number it used.
type jscan struct {
	s                string
	i                int
	bad              bool
	pieces, splitMin int
}

func (p *jscan) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// byte consumes c (after white space) if it comes next.
func (p *jscan) byte(c byte) bool {
	p.ws()
	if !p.bad && p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *jscan) end() bool {
	p.ws()
	return !p.bad && p.i == len(p.s)
}

// key reads an object key and its colon.
func (p *jscan) key() string {
	k, ok := p.str()
	if !ok || !p.byte(':') {
		p.bad = true
	}
	return k
}

// str reads a string. One without escapes or non-ASCII bytes is a slice
// of s; others go to encoding/json, which unescapes and replaces invalid
// UTF-8 as the general decoder does.
func (p *jscan) str() (string, bool) {
	if !p.byte('"') {
		return "", false
	}
	start, plain := p.i, true
	for ; p.i < len(p.s); p.i++ {
		switch c := p.s[p.i]; {
		case c == '"':
			p.i++
			if plain {
				return p.s[start : p.i-1], true
			}
			var v string
			if err := json.Unmarshal([]byte(p.s[start-1:p.i]), &v); err != nil {
				p.bad = true
				return "", false
			}
			return v, true
		case c == '\\':
			plain = false
			p.i++ // skip the escaped byte, which may be a quote
		case c < 0x20:
			p.bad = true
			return "", false
		case c >= utf8.RuneSelf:
			plain = false
		}
	}
	p.bad = true
	return "", false
}

// stringArray reads an array of strings.
func (p *jscan) stringArray() []string {
	out := []string{}
	if !p.byte('[') {
		p.bad = true
		return nil
	}
	for first := true; !p.byte(']'); first = false {
		if (!first && !p.byte(',')) || p.bad {
			p.bad = true
			return nil
		}
		s, ok := p.str()
		if !ok {
			p.bad = true
			return nil
		}
		out = append(out, s)
	}
	return out
}

// splitMin is the smallest data array columnsData scans in pieces: a
// 10,000-row ames request holds about 9 MB of it, whose serial scan was
// the one serial stage of the request's decoding; below some 100 KB the
// goroutines cost more than they spare.
const splitMin = 128 << 10

// columnsData reads an array of arrays of scalars into columns: out[j]
// holds every row's j-th cell. Each row must have as many cells as the
// first, and the first at least one. From splitMin bytes on it scans the
// rows in up to p.pieces parts at once (see dataSplit), else in one.
// (splitMin applies to the bytes after the array's start, a bound on
// its size.)
func (p *jscan) columnsData() [][]string {
	if !p.byte('[') {
		p.bad = true
		return nil
	}
	start := p.i
	if p.pieces > 1 && len(p.s)-p.i >= p.splitMin {
		if out, end, ok := p.dataSplit(p.pieces); ok {
			p.i = end
			return out
		}
		p.i = start // read serially from the top
	}
	p.pieces = 1
	out, _ := p.rows(-1, len(p.s))
	return out
}

// rows reads the rows of a data array from p.i (just past its '[', or
// at a row's '[') into columns. With stop < 0 it reads to the array's
// ']'; else it stops at the row that starts at offset stop and returns
// reached true, or fails (bad) if rows run past stop or the array ends
// first. end bounds the bytes the rows may take, for grow's estimate.
// The columns share one allocation (see grow).
func (p *jscan) rows(stop, end int) (out [][]string, reached bool) {
	out = [][]string{}
	start := p.i
	for r := 0; !p.byte(']'); r++ {
		if r > 0 && !p.byte(',') {
			p.bad = true
			return nil, false
		}
		if p.ws(); r > 0 && stop >= 0 && p.i >= stop {
			if p.i > stop {
				p.bad = true
				return nil, false
			}
			return out, true
		}
		if !p.byte('[') {
			p.bad = true
			return nil, false
		}
		if r > 0 && len(out[0]) == cap(out[0]) {
			out = grow(out, r, r*(end-start)/(p.i-start))
		}
		j := 0
		for ; !p.byte(']'); j++ {
			if (j > 0 && !p.byte(',')) || p.bad || (r > 0 && j >= len(out)) {
				p.bad = true
				return nil, false
			}
			v, ok := p.scalar()
			if !ok {
				p.bad = true
				return nil, false
			}
			if r == 0 {
				out = append(out, nil)
			}
			out[j] = append(out[j], v)
		}
		if j == 0 || j != len(out) {
			p.bad = true
			return nil, false
		}
	}
	if stop >= 0 {
		p.bad = true // the array ended before the row at stop
		return nil, false
	}
	return out, true
}

// dataSplit reads the rows of the data array at p.i (just past its '[')
// in up to pieces parts at once, each starting at a candidate row start
// (see rowStarts) and reading until the next; it returns the columns and
// the offset after the array's ']', or ok false when the rows must be
// read serially.
//
// Why the result is the serial scan's: the first part starts where the
// serial scan does, and a scan is a function of its offset alone (jscan
// carries nothing else), so it reads the serial scan's rows. It must stop
// at the next candidate exactly at the start of a row, after a row's ','
// (rows reports a scan that runs past it or reaches the array's end as
// bad); then that candidate is a true row start, the serial scan reads
// on from it as the next part did, and by induction every part read the
// serial scan's rows. A candidate inside a string ("],[" in a cell) or
// past the array is never reached at a row start, so the split is
// refused. A bad part refuses it too, and the serial scan then reports
// whatever error there is.
func (p *jscan) dataSplit(pieces int) (out [][]string, end int, ok bool) {
	starts := append([]int{p.i}, rowStarts(p.s, p.i, pieces)...)
	if len(starts) < 2 {
		return nil, 0, false
	}
	parts := make([][][]string, len(starts))
	scans := make([]jscan, len(starts))
	var wg sync.WaitGroup
	for k := range starts {
		wg.Go(func() {
			q, stop, bound := &scans[k], -1, len(p.s)
			q.s, q.i = p.s, starts[k]
			if k+1 < len(starts) {
				stop = starts[k+1]
				if k > 0 {
					bound = stop
				}
			}
			// The first part's columns have room for every part's rows.
			if cols, reached := q.rows(stop, bound); reached && !q.bad {
				parts[k] = cols
			}
		})
	}
	wg.Wait()
	out = parts[0]
	for _, part := range parts {
		if part == nil || len(part) != len(out) {
			return nil, 0, false
		}
	}
	for j := range out {
		for _, part := range parts[1:] {
			out[j] = append(out[j], part[j]...)
		}
	}
	p.pieces = len(parts)
	return out, scans[len(scans)-1].i, true
}

// rowStarts returns candidate offsets of row starts in the data array
// whose rows begin at start, one after each even share of s[start:]
// beyond the first: the '[' of the first "]" "," "[" (white space
// allowed between) found there. They may be false (inside a string, or
// after the array); dataSplit checks them.
func rowStarts(s string, start, pieces int) []int {
	var out []int
	last := start
	for k := 1; k < pieces; k++ {
		at := max(start+k*(len(s)-start)/pieces, last+1)
		for at < len(s) {
			i := strings.IndexByte(s[at:], ']')
			if i < 0 {
				return out
			}
			q := jscan{s: s, i: at + i + 1}
			if q.byte(',') && q.byte('[') {
				out = append(out, q.i-1)
				break
			}
			at += i + 1
		}
		if len(out) > 0 {
			last = out[len(out)-1]
		}
	}
	return out
}

// grow moves columns of rows cells each into one allocation with room
// for about est rows (a row-by-row estimate from the bytes read so far;
// a tenth more for rows longer than those read).
func grow(cols [][]string, rows, est int) [][]string {
	est = max(rows+1, est+est/10+16)
	cells := make([]string, len(cols)*est)
	for j, c := range cols {
		cols[j] = append(cells[j*est:j*est:(j+1)*est], c...)
	}
	return cols
}

// scalar reads a string, number, true, false or null as cell text.
func (p *jscan) scalar() (string, bool) {
	p.ws()
	if p.i >= len(p.s) {
		return "", false
	}
	switch c := p.s[p.i]; {
	case c == '"':
		return p.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	for _, lit := range [...]struct{ word, cell string }{{"true", "true"}, {"false", "false"}, {"null", ""}} {
		if len(p.s)-p.i >= len(lit.word) && p.s[p.i:p.i+len(lit.word)] == lit.word {
			p.i += len(lit.word)
			return lit.cell, true
		}
	}
	return "", false
}

// number reads a number by JSON's grammar and returns its text.
func (p *jscan) number() (string, bool) {
	start := p.i
	p.opt('-')
	switch {
	case p.opt('0'):
	case p.digits() == 0:
		return "", false
	}
	if p.opt('.') && p.digits() == 0 {
		return "", false
	}
	if p.opt('e') || p.opt('E') {
		if !p.opt('+') {
			p.opt('-')
		}
		if p.digits() == 0 {
			return "", false
		}
	}
	return p.s[start:p.i], true
}

func (p *jscan) opt(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *jscan) digits() int {
	n := 0
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
		n++
	}
	return n
}

// skip passes over any value, checking its grammar.
func (p *jscan) skip() {
	p.ws()
	if p.i >= len(p.s) {
		p.bad = true
		return
	}
	switch p.s[p.i] {
	case '{', '[':
		open, close := p.s[p.i], byte('}')
		if open == '[' {
			close = ']'
		}
		p.i++
		for first := true; !p.byte(close); first = false {
			if (!first && !p.byte(',')) || p.bad {
				p.bad = true
				return
			}
			if open == '{' {
				p.key()
			}
			p.skip()
			if p.bad {
				return
			}
		}
	default:
		if _, ok := p.scalar(); !ok {
			p.bad = true
		}
	}
}
