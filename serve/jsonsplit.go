package serve

import (
	"encoding/json"
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
	p := &jscan{s: string(body)}
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
			cells = p.columnsData()
		default:
			p.skip()
		}
		if p.bad {
			return nil, nil, false
		}
	}
	if !p.byte('}') || !p.end() || columns == nil || cells == nil {
		return nil, nil, false
	}
	return columns, cells, true
}

// jscan reads JSON from s; bad records the first error, after which
// every method does nothing.
type jscan struct {
	s   string
	i   int
	bad bool
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

// columnsData reads an array of arrays of scalars into columns: out[j]
// holds every row's j-th cell. Each row must have as many cells as the
// first, and the first at least one. The columns share one allocation,
// sized by the rows' bytes so far (see grow).
func (p *jscan) columnsData() [][]string {
	out := [][]string{}
	if !p.byte('[') {
		p.bad = true
		return nil
	}
	start := p.i
	for r := 0; !p.byte(']'); r++ {
		if (r > 0 && !p.byte(',')) || !p.byte('[') {
			p.bad = true
			return nil
		}
		if r > 0 && len(out[0]) == cap(out[0]) {
			out = grow(out, r, r*(len(p.s)-start)/(p.i-start))
		}
		j := 0
		for ; !p.byte(']'); j++ {
			if (j > 0 && !p.byte(',')) || p.bad || (r > 0 && j >= len(out)) {
				p.bad = true
				return nil
			}
			v, ok := p.scalar()
			if !ok {
				p.bad = true
				return nil
			}
			if r == 0 {
				out = append(out, nil)
			}
			out[j] = append(out[j], v)
		}
		if j == 0 || j != len(out) {
			p.bad = true
			return nil
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
