package frame

import "fmt"

// Concat returns a's rows followed by b's, for a's columns, which b must
// have with the same kinds. Categorical levels are a's, then b's that a
// lacks, in b's order, so that one code means one label in all rows.
func Concat(a, b *Frame) (*Frame, error) {
	cols := make([]*Column, 0, a.NumCols())
	for _, ca := range a.Columns() {
		cb, ok := b.Lookup(ca.Name)
		if !ok {
			return nil, fmt.Errorf("concat: the second frame has no column %q", ca.Name)
		}
		if cb.Kind != ca.Kind {
			return nil, fmt.Errorf("concat: column %q is %s, then %s", ca.Name, ca.Kind, cb.Kind)
		}
		if ca.Kind != Categorical {
			c := &Column{Name: ca.Name, Kind: ca.Kind, Num: append(append(make([]float64, 0, len(ca.Num)+len(cb.Num)), ca.Num...), cb.Num...)}
			if ca.Offsets != nil || cb.Offsets != nil {
				c.Offsets = make([]int32, len(c.Num))
				for i := range ca.Num {
					c.Offsets[i] = ca.Offset(i)
				}
				for i := range cb.Num {
					c.Offsets[len(ca.Num)+i] = cb.Offset(i)
				}
			}
			cols = append(cols, c)
			continue
		}
		levels := append([]string(nil), ca.Levels...)
		index := make(map[string]int32, len(levels))
		for i, l := range levels {
			index[l] = int32(i)
		}
		remap := make([]int32, len(cb.Levels))
		for i, l := range cb.Levels {
			j, ok := index[l]
			if !ok {
				j = int32(len(levels))
				index[l] = j
				levels = append(levels, l)
			}
			remap[i] = j
		}
		codes := append(make([]int32, 0, len(ca.Codes)+len(cb.Codes)), ca.Codes...)
		for _, c := range cb.Codes {
			if c >= 0 {
				c = remap[c]
			}
			codes = append(codes, c)
		}
		cols = append(cols, &Column{Name: ca.Name, Kind: Categorical, Codes: codes, Levels: levels})
	}
	return New(cols...)
}
