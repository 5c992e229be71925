package frame

import (
	"fmt"
	"slices"
)

// DefaultMissing returns the text values read as missing when
// ReadOptions.Missing is nil: "", "NA", "NaN", "nan", "null", "NULL" and
// "N/A".
func DefaultMissing() []string {
	return []string{"", "NA", "NaN", "nan", "null", "NULL", "N/A"}
}

// MissingIn returns the texts o reads as missing in the column named
// name: Missing (DefaultMissing when nil), then the column's own
// ColumnMissing texts. The result is a new slice.
func (o ReadOptions) MissingIn(name string) []string {
	tokens := o.Missing
	if tokens == nil {
		tokens = DefaultMissing()
	}
	return append(slices.Clip(tokens), o.ColumnMissing[name]...)
}

// missingSet is the set of Missing's texts, shared by every column.
func (o ReadOptions) missingSet() *missingSet {
	tokens := o.Missing
	if tokens == nil {
		tokens = DefaultMissing()
	}
	return newMissingSet(tokens)
}

// missingSets returns, for each column of cols, its set of missing
// texts: the shared missingSet, or for a column ColumnMissing names a
// set of its own holding its texts too. Columns without texts of their
// own share one set, so a read without ColumnMissing builds one set.
func (o ReadOptions) missingSets(cols []*textColumn) []*missingSet {
	base := o.missingSet()
	out := make([]*missingSet, len(cols))
	for j, c := range cols {
		out[j] = o.columnSet(base, c.name)
	}
	return out
}

// columnSet returns the set of missing texts of the column named name:
// base (o's missingSet) unless ColumnMissing gives the column texts of
// its own.
func (o ReadOptions) columnSet(base *missingSet, name string) *missingSet {
	if len(o.ColumnMissing[name]) == 0 {
		return base
	}
	return newMissingSet(o.MissingIn(name))
}

func newMissingSet(tokens []string) *missingSet {
	m := &missingSet{set: make(map[string]struct{}, len(tokens))}
	for _, t := range tokens {
		m.add(t)
		if b, ok := windows1252Bytes(t); ok {
			m.add(b)
		}
	}
	return m
}

func (m *missingSet) add(t string) {
	m.set[t] = struct{}{}
	m.longest = max(m.longest, len(t))
	if t == "" {
		m.empty = true
	} else {
		m.first[t[0]] = true
	}
}

// missingSet is the set of missing-value tokens. Most cells start with a
// byte no token starts with (a digit, for the default tokens) or are
// longer than every token (a label such as "No_Garage", which starts
// like "NA"), so looking at those first spares a map lookup per cell.
type missingSet struct {
	set     map[string]struct{}
	first   [256]bool // first bytes of the non-empty tokens
	longest int       // length of the longest token
	empty   bool      // "" is a token
}

func (m *missingSet) has(s string) bool {
	if s == "" {
		return m.empty
	}
	if len(s) > m.longest || !m.first[s[0]] {
		return false
	}
	_, ok := m.set[s]
	return ok
}

// parquetColumn finishes column c of a Parquet file as o reads it: the
// labels that are its own missing texts (ColumnMissing) marked missing,
// then the kind Schema forces, converted with missing, the column's set
// (see missingSets). Missing's shared texts mark no label of a string
// column that Schema leaves alone, since Parquet marks missing values
// itself; a column's own texts are the user's word about that column.
func (o ReadOptions) parquetColumn(c *Column, missing *missingSet) (*Column, error) {
	if err := o.ownMissing(c.Name, c.Kind); err != nil {
		return nil, err
	}
	if own := o.ColumnMissing[c.Name]; len(own) > 0 {
		c = missingLevels(c, newMissingSet(own))
	}
	if k, ok := o.Schema[c.Name]; ok {
		return convertColumn(c, k, missing)
	}
	return c, nil
}

// ownMissing refuses ColumnMissing texts for the column name of a
// Parquet file that stores it as kind: only strings have text to
// compare.
func (o ReadOptions) ownMissing(name string, kind Kind) error {
	if own := o.ColumnMissing[name]; len(own) > 0 && kind != Categorical {
		return &ParseError{Column: name, Err: fmt.Errorf("has missing-value texts of its own (%q), but the Parquet file stores it as %s values, not strings", own, kind)}
	}
	return nil
}

// missingLevels returns c, a categorical column, with its labels in
// missing dropped from its levels and their rows missing; c itself when
// it has no such label. The remaining levels keep their order.
func missingLevels(c *Column, missing *missingSet) *Column {
	remap := make([]int32, len(c.Levels))
	levels := make([]string, 0, len(c.Levels))
	for i, l := range c.Levels {
		remap[i] = -1
		if !missing.has(l) {
			remap[i] = int32(len(levels))
			levels = append(levels, l)
		}
	}
	if len(levels) == len(c.Levels) {
		return c
	}
	codes := make([]int32, len(c.Codes))
	for i, code := range c.Codes {
		codes[i] = -1
		if code >= 0 {
			codes[i] = remap[code]
		}
	}
	out := *c
	out.Codes, out.Levels = codes, levels
	return &out
}
