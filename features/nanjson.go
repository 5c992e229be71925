package features

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/tabforge/tabforge/frame"
)

// nanFloats is a []float64 whose JSON encoding writes NaN as null, which
// encoding/json refuses to encode; infinities are an error. Finite values
// round-trip exactly.
type nanFloats []float64

// MarshalJSON implements json.Marshaler.
func (v nanFloats) MarshalJSON() ([]byte, error) {
	if v == nil {
		return []byte("null"), nil
	}
	b := make([]byte, 0, 2+len(v)*8)
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		switch {
		case math.IsNaN(x):
			b = append(b, "null"...)
		case math.IsInf(x, 0):
			return nil, fmt.Errorf("value %d is %v, which JSON cannot hold", i, x)
		default:
			b = strconv.AppendFloat(b, x, 'g', -1, 64)
		}
	}
	return append(b, ']'), nil
}

// UnmarshalJSON implements json.Unmarshaler; null elements become NaN.
func (v *nanFloats) UnmarshalJSON(data []byte) error {
	var raw []*float64
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	if raw == nil {
		*v = nil
		return nil
	}
	out := make(nanFloats, len(raw))
	for i, p := range raw {
		if p == nil {
			out[i] = math.NaN()
		} else {
			out[i] = *p
		}
	}
	*v = out
	return nil
}

// sameFloats reports whether a and b hold the same values, NaN equal to
// NaN.
func sameFloats(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool {
		return x == y || (math.IsNaN(x) && math.IsNaN(y))
	})
}

// appendColumns returns x with cols appended. A new column whose name is
// already in x is an error: these transformers add columns and never
// replace input columns.
func appendColumns(x *frame.Frame, cols []*frame.Column) (*frame.Frame, error) {
	for _, c := range cols {
		if _, ok := x.Lookup(c.Name); ok {
			return nil, fmt.Errorf("new column %q is already in the frame", c.Name)
		}
	}
	all := make([]*frame.Column, 0, x.NumCols()+len(cols))
	all = append(all, x.Columns()...)
	all = append(all, cols...)
	return frame.New(all...)
}
