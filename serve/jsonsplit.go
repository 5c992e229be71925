package serve

import (
	"encoding/json"
	"slices"
	"unicode/utf8"

	"github.com/tabforge/tabforge/frame"
)

// fastSplit decodes the common body {"dataframe_split": {"columns":
// [...], "data": [[...], ...]}} with one pass over the bytes, filing
// each cell's text under its column as it goes (frame.TextColumn), with
// no boxed values and no grid of cells: for a 10,000-row request it is
// several times faster than encoding/json's map-and-interface decoding,
// which dominated the time of a large request. It takes only bodies it
// can read without doubt (that key alone at the top, the inner keys
// "columns", "data" and anything else skipped, scalars in the cells) and
// returns ok false for anything else, including malformed JSON, so the
// general decoder handles it and reports any error: cells are the same
// text either way (a number's literal text, a string's value, true,
// false, "" for null). Ragged rows are left to the general decoder. The
// cells are copies: nothing returned shares the body. The columns reuse
// the memory of reuse, columns a finished request no longer reads (or
// nil).
func fastSplit(body []byte, reuse []frame.TextColumn) (columns []string, cols []frame.TextColumn, ok bool) {
	p := &jscan{s: body, reuse: reuse}
	if !p.byte('{') || p.key() != "dataframe_split" || !p.byte('{') {
		return nil, nil, false
	}
	seen := map[string]bool{}
	for first := true; ; first = false {
		if p.byte('}') {
			break
		}
		if !first && !p.byte(',') {
			return nil, nil, false
		}
		k := p.key()
		if p.bad || seen[k] {
			return nil, nil, false
		}
		seen[k] = true
		switch k {
		case "columns":
			columns = p.stringArray()
		case "data":
			cols = p.columnsData()
		default:
			p.skip(0)
		}
		if p.bad {
			return nil, nil, false
		}
	}
	if !p.byte('}') || !p.end() || columns == nil || cols == nil {
		return nil, nil, false
	}
	return columns, cols, true
}

// jscan reads JSON from s; bad records the first error, after which
// every method does nothing.
type jscan struct {
	s     []byte
	i     int
	bad   bool
	reuse []frame.TextColumn // emptied columns for columnsData
}

// ws skips white space. It and the other hot methods work on a local
// copy of p.i, which the compiler keeps in a register, and store it once.
func (p *jscan) ws() {
	s, i := p.s, p.i
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	p.i = i
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

// str reads a string.
func (p *jscan) str() (string, bool) {
	start, end, plain, ok := p.strSpan()
	switch {
	case !ok:
		return "", false
	case plain:
		return string(p.s[start:end]), true
	}
	return p.unquote(start, end)
}

// strSpan reads a string whose text is s[start:end]. A plain one (no
// escapes, no non-ASCII bytes) is that text; others need unquote.
func (p *jscan) strSpan() (start, end int, plain, ok bool) {
	if !p.byte('"') {
		return 0, 0, false, false
	}
	return p.strRest()
}

// strRest is strSpan after the opening quote.
func (p *jscan) strRest() (start, end int, plain, ok bool) {
	s, i := p.s, p.i
	start, plain = i, true
	for ; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			continue
		}
		switch {
		case c == '"':
			p.i = i + 1
			return start, i, plain, true
		case c == '\\':
			plain = false
			i++ // skip the escaped byte, which may be a quote
		case c < 0x20:
			p.bad = true
			return 0, 0, false, false
		default: // not ASCII
			plain = false
		}
	}
	p.bad = true
	return 0, 0, false, false
}

// unquote decodes the string whose text is s[start:end] with
// encoding/json, which unescapes and replaces invalid UTF-8 as the
// general decoder does.
func (p *jscan) unquote(start, end int) (string, bool) {
	var v string
	if err := json.Unmarshal(p.s[start-1:end+1], &v); err != nil {
		p.bad = true
		return "", false
	}
	return v, true
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

// reserveAfter is the row after which columnsData sizes the columns for
// the rows it expects: enough rows for a fair average row length.
const reserveAfter = 16

// columnsData reads an array of arrays of scalars into columns: out[j]
// holds every row's j-th cell. Each row must have as many cells as the
// first, and the first at least one.
func (p *jscan) columnsData() []frame.TextColumn {
	out := p.reuse[:0]
	if !p.byte('[') {
		p.bad = true
		return nil
	}
	if p.byte(']') {
		return out
	}
	start := p.i
	for r := 0; ; r++ {
		if !p.byte('[') {
			p.bad = true
			return nil
		}
		if r == reserveAfter {
			// The rows left, by the bytes the rows so far took, and a
			// tenth more for rows longer than those.
			est := r * (len(p.s) - start) / (p.i - start)
			for j := range out {
				out[j].Reserve(est + est/10)
			}
		}
		if out = p.row(out, r == 0); p.bad {
			return nil
		}
		if !p.byte(',') {
			break
		}
	}
	if !p.byte(']') {
		p.bad = true
		return nil
	}
	return out
}

// row reads the cells of one row, after its '[', into out, one per
// column: the first row adds the columns, the others must fill them all.
func (p *jscan) row(out []frame.TextColumn, first bool) []frame.TextColumn {
	for j := 0; ; j++ {
		switch {
		case first:
			out = slices.Grow(out, 1)[:j+1]
			out[j].Reset() // a reused column, or a new one from Grow
		case j >= len(out):
			p.bad = true
			return out
		}
		if !p.cell(&out[j]) {
			p.bad = true
			return out
		}
		p.ws()
		if p.i >= len(p.s) {
			p.bad = true
			return out
		}
		c := p.s[p.i]
		p.i++
		switch {
		case c == ',':
		case c == ']' && j+1 == len(out):
			return out
		default:
			p.bad = true
			return out
		}
	}
}

// cell reads a string, number, true, false or null and appends its cell
// text to c.
func (p *jscan) cell(c *frame.TextColumn) bool {
	p.ws()
	if p.i >= len(p.s) {
		return false
	}
	switch b := p.s[p.i]; {
	case b == '"':
		p.i++
		start, end, plain, ok := p.strRest()
		if !ok {
			return false
		}
		if plain {
			return c.Append(p.s[start:end])
		}
		v, ok := p.unquote(start, end)
		return ok && c.AppendString(v)
	case b == '-' || (b >= '0' && b <= '9'):
		start := p.i
		return p.number() && c.Append(p.s[start:p.i])
	}
	v, ok := p.literal()
	return ok && c.AppendString(v)
}

// literal reads true, false or null as cell text.
func (p *jscan) literal() (string, bool) {
	for _, lit := range [...]struct{ word, cell string }{{"true", "true"}, {"false", "false"}, {"null", ""}} {
		if len(p.s)-p.i >= len(lit.word) && string(p.s[p.i:p.i+len(lit.word)]) == lit.word {
			p.i += len(lit.word)
			return lit.cell, true
		}
	}
	return "", false
}

// number reads a number by JSON's grammar.
func (p *jscan) number() bool {
	s, i := p.s, p.i
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && isDigit(s[i]):
		i = digits(s, i)
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		if i = digits(s, i+1); !isDigit(s[i-1]) {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i = digits(s, i); !isDigit(s[i-1]) {
			return false
		}
	}
	p.i = i
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// digits returns the end of the run of digits at s[i:].
func digits(s []byte, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// maxSkipDepth bounds the nesting skip follows: deeper values are left
// to the general decoder, which refuses absurd depths, instead of
// recursing once per level on a hostile body until the stack overflows.
const maxSkipDepth = 100

// skip passes over any value nested depth levels deep, checking its
// grammar.
func (p *jscan) skip(depth int) {
	p.ws()
	if p.i >= len(p.s) || depth > maxSkipDepth {
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
			p.skip(depth + 1)
			if p.bad {
				return
			}
		}
	case '"':
		if _, ok := p.str(); !ok { // str checks the escapes
			p.bad = true
		}
	default:
		if b := p.s[p.i]; b == '-' || (b >= '0' && b <= '9') {
			p.bad = !p.number()
		} else if _, ok := p.literal(); !ok {
			p.bad = true
		}
	}
}
