// Package frame owns tabforge's in-memory table: a set of equally long,
// named, typed columns (numeric, categorical, datetime), the readers that
// build one from CSV or Parquet with schema inference, and the content hash
// that is a dataset's version id.
//
// Missing values are NaN in numeric and datetime columns and code -1 in
// categorical columns. A Frame is never modified in place by tabforge's
// stages: transformations return new frames that may share unchanged
// columns with their input, so columns must be treated as read-only once
// they are part of a Frame.
package frame

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Kind is the logical type of a column.
type Kind uint8

const (
	// Numeric columns hold float64 values; NaN means missing.
	Numeric Kind = iota
	// Categorical columns hold codes into Levels; -1 means missing.
	Categorical
	// Datetime columns hold Unix seconds (UTC) as float64; NaN means
	// missing. Column.Offsets keeps the UTC offset each value was written
	// with, if any was not zero.
	Datetime
)

// String returns the kind's name: "numeric", "categorical" or "datetime".
func (k Kind) String() string {
	switch k {
	case Numeric:
		return "numeric"
	case Categorical:
		return "categorical"
	case Datetime:
		return "datetime"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, error) {
	switch s {
	case "numeric":
		return Numeric, nil
	case "categorical":
		return Categorical, nil
	case "datetime":
		return Datetime, nil
	}
	return 0, fmt.Errorf("unknown column kind %q (allowed: numeric, categorical, datetime)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// Column is one named, typed column. Exactly one of Num (Numeric, Datetime)
// or Codes (Categorical) is used, according to Kind.
type Column struct {
	Name   string
	Kind   Kind
	Num    []float64 // Numeric and Datetime values; NaN = missing
	Codes  []int32   // Categorical codes into Levels; -1 = missing
	Levels []string  // Categorical levels, in code order
	// Offsets, for a Datetime column, is each value's offset east of UTC
	// in seconds as it was written (2020-01-01T00:00:00+02:00 has 7200),
	// so that calendar parts can be read in the data's own civil time:
	// that timestamp is in January, although its Unix seconds fall on
	// 31 December in UTC. nil means every value is UTC (or zone-less);
	// otherwise it is as long as Num.
	Offsets []int32
}

// Len returns the number of rows of c.
func (c *Column) Len() int {
	if c.Kind == Categorical {
		return len(c.Codes)
	}
	return len(c.Num)
}

// IsMissing reports whether row i of c is missing.
func (c *Column) IsMissing(i int) bool {
	if c.Kind == Categorical {
		return c.Codes[i] < 0
	}
	return math.IsNaN(c.Num[i])
}

// Offset returns the UTC offset, in seconds, that datetime row i was
// written with; 0 when c has no offsets.
func (c *Column) Offset(i int) int32 {
	if c.Offsets == nil {
		return 0
	}
	return c.Offsets[i]
}

// Local returns datetime row i as the Unix seconds of its civil (wall
// clock) time read as UTC: Num[i] plus its offset. Calendar parts (day,
// month, weekday) of Local are those of the time as written; NaN stays
// NaN.
func (c *Column) Local(i int) float64 {
	return c.Num[i] + float64(c.Offset(i))
}

// Label returns the level of categorical row i, or "" if it is missing.
func (c *Column) Label(i int) string {
	if c.Codes[i] < 0 {
		return ""
	}
	return c.Levels[c.Codes[i]]
}

// Take returns a new column holding the rows of c at the given indices.
func (c *Column) Take(rows []int) *Column {
	out := &Column{Name: c.Name, Kind: c.Kind, Levels: c.Levels}
	if c.Kind == Categorical {
		out.Codes = make([]int32, len(rows))
		for i, r := range rows {
			out.Codes[i] = c.Codes[r]
		}
		return out
	}
	out.Num = make([]float64, len(rows))
	for i, r := range rows {
		out.Num[i] = c.Num[r]
	}
	if c.Offsets != nil {
		out.Offsets = make([]int32, len(rows))
		for i, r := range rows {
			out.Offsets[i] = c.Offsets[r]
		}
	}
	return out
}

// NewNumeric returns a numeric column.
func NewNumeric(name string, v []float64) *Column {
	return &Column{Name: name, Kind: Numeric, Num: v}
}

// NewDatetime returns a datetime column of Unix seconds, all UTC.
func NewDatetime(name string, unixSeconds []float64) *Column {
	return &Column{Name: name, Kind: Datetime, Num: unixSeconds}
}

// NewDatetimeOffsets returns a datetime column of Unix seconds, each
// written with the given offset east of UTC in seconds (see
// Column.Offsets). offsets must be as long as unixSeconds; offsets that
// are all zero are dropped, so the column equals NewDatetime's.
func NewDatetimeOffsets(name string, unixSeconds []float64, offsets []int32) *Column {
	if len(offsets) != len(unixSeconds) {
		panic(fmt.Sprintf("frame: %d offsets for %d datetimes", len(offsets), len(unixSeconds)))
	}
	c := NewDatetime(name, unixSeconds)
	if slices.ContainsFunc(offsets, func(o int32) bool { return o != 0 }) {
		c.Offsets = offsets
	}
	return c
}

// NewCategorical returns a categorical column.
func NewCategorical(name string, codes []int32, levels []string) *Column {
	return &Column{Name: name, Kind: Categorical, Codes: codes, Levels: levels}
}

// NewCategoricalFromStrings builds a categorical column from labels; ""
// is missing. Levels are sorted lexicographically so that codes do not
// depend on row order.
func NewCategoricalFromStrings(name string, labels []string) *Column {
	seen := map[string]struct{}{}
	for _, s := range labels {
		if s != "" {
			seen[s] = struct{}{}
		}
	}
	levels := make([]string, 0, len(seen))
	for s := range seen {
		levels = append(levels, s)
	}
	slices.Sort(levels)
	index := make(map[string]int32, len(levels))
	for i, s := range levels {
		index[s] = int32(i)
	}
	codes := make([]int32, len(labels))
	for i, s := range labels {
		if s == "" {
			codes[i] = -1
		} else {
			codes[i] = index[s]
		}
	}
	return NewCategorical(name, codes, levels)
}

// Frame is an immutable table of equally long named columns.
type Frame struct {
	cols  []*Column
	index map[string]int
	rows  int
}

// ErrShape reports columns of unequal length.
var ErrShape = errors.New("frame: columns differ in length")

// New returns a frame of the given columns. Names must be unique and
// columns equally long.
func New(cols ...*Column) (*Frame, error) {
	f := &Frame{cols: cols, index: make(map[string]int, len(cols))}
	for i, c := range cols {
		if _, dup := f.index[c.Name]; dup {
			return nil, fmt.Errorf("frame: duplicate column name %q", c.Name)
		}
		f.index[c.Name] = i
		if i == 0 {
			f.rows = c.Len()
		} else if c.Len() != f.rows {
			return nil, fmt.Errorf("%w: %q has %d rows, %q has %d", ErrShape, c.Name, c.Len(), cols[0].Name, f.rows)
		}
	}
	return f, nil
}

// MustNew is New that panics on error; for tests and literals.
func MustNew(cols ...*Column) *Frame {
	f, err := New(cols...)
	if err != nil {
		panic(err)
	}
	return f
}

// NumRows returns the number of rows.
func (f *Frame) NumRows() int { return f.rows }

// NumCols returns the number of columns.
func (f *Frame) NumCols() int { return len(f.cols) }

// Col returns column i.
func (f *Frame) Col(i int) *Column { return f.cols[i] }

// Columns returns the columns in order. The slice must not be modified.
func (f *Frame) Columns() []*Column { return f.cols }

// Names returns the column names in order.
func (f *Frame) Names() []string {
	out := make([]string, len(f.cols))
	for i, c := range f.cols {
		out[i] = c.Name
	}
	return out
}

// Lookup returns the column with the given name.
func (f *Frame) Lookup(name string) (*Column, bool) {
	i, ok := f.index[name]
	if !ok {
		return nil, false
	}
	return f.cols[i], true
}

// Take returns a new frame of the given rows (in the given order).
func (f *Frame) Take(rows []int) *Frame {
	cols := make([]*Column, len(f.cols))
	for i, c := range f.cols {
		cols[i] = c.Take(rows)
	}
	return &Frame{cols: cols, index: f.index, rows: len(rows)}
}

// Drop returns a frame without the named columns; unknown names are ignored.
func (f *Frame) Drop(names ...string) *Frame {
	var cols []*Column
	for _, c := range f.cols {
		if !slices.Contains(names, c.Name) {
			cols = append(cols, c)
		}
	}
	out, _ := New(cols...)
	return out
}

// With returns a frame with c appended, or replacing the column of the
// same name.
func (f *Frame) With(c *Column) (*Frame, error) {
	cols := slices.Clone(f.cols)
	if i, ok := f.index[c.Name]; ok {
		cols[i] = c
	} else {
		cols = append(cols, c)
	}
	return New(cols...)
}
