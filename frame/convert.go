package frame

import "fmt"

// checkSchemaNames reports a schema entry that names no column, unless
// the options make the schema optional.
func checkSchemaNames(opts ReadOptions, cols []*Column) error {
	for name, k := range opts.Schema {
		if k > Datetime {
			return fmt.Errorf("schema for column %q: invalid kind %v", name, k)
		}
		if opts.SchemaOptional {
			continue
		}
		found := false
		for _, c := range cols {
			if c.Name == name {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("schema names column %q, which is not in the file", name)
		}
	}
	return nil
}

// convertColumn converts c to kind k through the text form of its values,
// with the same rules as ReadCSV applies to a column forced to k: a label
// in missing (the tokens ReadCSV reads as missing, such as "" and "NA")
// is missing, not a value that fails to parse. It returns c itself when
// it already has kind k.
func convertColumn(c *Column, k Kind, missing *missingSet) (*Column, error) {
	if c.Kind == k {
		return c, nil
	}
	t := &textColumn{name: c.Name, forced: true, kind: k}
	noLine := func() int { return 0 }
	var buf []byte
	for i := range c.Len() {
		if c.IsMissing(i) {
			if err := t.add("", true, i+1, noLine); err != nil {
				return nil, err
			}
			continue
		}
		var s string
		switch c.Kind {
		case Categorical:
			if s = c.Levels[c.Codes[i]]; missing.has(s) {
				if err := t.add("", true, i+1, noLine); err != nil {
					return nil, err
				}
				continue
			}
		case Numeric:
			buf = appendNumber(buf[:0], c.Num[i])
			s = string(buf)
		default:
			var err error
			if buf, err = appendDatetime(buf[:0], c.Num[i], c.Offset(i)); err != nil {
				return nil, &ParseError{Row: i + 1, Column: c.Name, Err: err}
			}
			s = string(buf)
		}
		if err := t.add(s, false, i+1, noLine); err != nil {
			return nil, err
		}
	}
	return t.column()
}
