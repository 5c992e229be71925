package features

// This file encodes frames with a fitted Design: one encoder per input
// column, filled block by block into the row-major matrix.

import (
	"fmt"
	"math"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
)

// blockRows is the number of rows encoded column by column before moving
// on, so that the row-major output block stays in cache.
const blockRows = 1024

// Matrix encodes x into a new matrix of NumFeatures columns. x must have
// every column of InputColumns, each of its training kind; other columns
// are ignored and column order does not matter. Categories are matched
// by label, so x may come from a file with a different code table. A
// missing column gives a *MissingColumnError; a wrong kind, an infinite
// value or an invalid code a *ColumnError.
//
// Matrix makes one pass over each column (in blocks of rows) and a map
// lookup per level of x, never per cell.
func (d *Design) Matrix(x *frame.Frame) (*model.Matrix, error) {
	return d.MatrixTo(nil, x)
}

// MatrixTo is Matrix writing into buf's storage when its capacity holds
// the matrix (a new array otherwise), so a server can reuse the arrays of
// large batches instead of allocating one per request. buf's contents do
// not matter; the matrix's Data aliases buf when it was used.
func (d *Design) MatrixTo(buf []float64, x *frame.Frame) (*model.Matrix, error) {
	return d.RowsTo(buf, x, 0, x.NumRows())
}

// RowsTo is MatrixTo for x's rows [first, end) only, so that a large
// batch can be encoded and predicted a block of rows at a time. Rows
// named in errors are still x's.
func (d *Design) RowsTo(buf []float64, x *frame.Frame, first, end int) (*model.Matrix, error) {
	if first < 0 || end > x.NumRows() || first > end {
		return nil, fmt.Errorf("features: rows [%d, %d) of a frame of %d", first, end, x.NumRows())
	}
	encs := make([]encoder, len(d.inputs))
	for k, in := range d.inputs {
		col, ok := x.Lookup(in.name)
		if !ok {
			return nil, &MissingColumnError{Column: in.name}
		}
		if col.Kind != in.kind {
			return nil, &ColumnError{Column: in.name, Err: fmt.Errorf("%w: %s, want %s", ErrWrongKind, col.Kind, in.kind)}
		}
		encs[k] = d.encoderFor(in, col)
	}
	n := end - first
	var m *model.Matrix
	if size := n * len(d.names); cap(buf) >= size {
		m = &model.Matrix{Rows: n, Cols: len(d.names), Data: buf[:size]}
		if d.spec.OneHot { // one-hot encoders write only the ones
			clear(m.Data)
		}
	} else {
		m = model.NewMatrix(n, len(d.names))
	}
	for lo := first; lo < end; lo += blockRows {
		hi := min(lo+blockRows, end)
		for k, e := range encs {
			if err := e.encode(m.Data[(lo-first)*m.Cols:], m.Cols, lo, hi); err != nil {
				return nil, &ColumnError{Column: d.inputs[k].name, Err: err}
			}
		}
	}
	return m, nil
}

// encoder writes one input column's features for rows [lo, hi) into the
// row-major dst with stride cols, whose first row is row lo.
type encoder interface {
	encode(dst []float64, cols, lo, hi int) error
}

func (d *Design) encoderFor(in *inputColumn, col *frame.Column) encoder {
	impute := !d.spec.Missing
	switch {
	case in.kind == frame.Numeric:
		return &numericEncoder{v: col.Num, off: in.offset, f: in.parts[0], impute: impute}
	case in.kind == frame.Datetime:
		e := &datetimeEncoder{v: col.Num, off: in.offset, parts: in.parts, impute: impute}
		if !d.utc {
			e.offsets = col.Offsets
		}
		return e
	case d.spec.OneHot:
		e := &oneHotEncoder{codes: col.Codes, off: in.offset, lut: make([]int32, len(col.Levels)), missing: -1}
		unseen := int32(-1)
		if len(in.pooled) > 0 && !d.unseenZero {
			unseen = lookup(in.index, OtherLevel)
		}
		for c, l := range col.Levels {
			if e.lut[c] = lookup(in.index, l); e.lut[c] < 0 {
				e.lut[c] = unseen
			}
		}
		if in.missingAs != "" {
			e.missing = lookup(in.index, in.missingAs)
		}
		return e
	default:
		e := &ordinalEncoder{codes: col.Codes, off: in.offset, lut: make([]float64, len(col.Levels)), missing: math.NaN()}
		for c, l := range col.Levels {
			e.lut[c] = float64(lookup(in.index, l))
		}
		if in.missingAs != "" {
			e.missing = float64(lookup(in.index, in.missingAs))
		}
		return e
	}
}

// lookup returns the level index of label, or -1 if it is unseen.
func lookup(index map[string]int32, label string) int32 {
	if i, ok := index[label]; ok {
		return i
	}
	return -1
}

type numericEncoder struct {
	v      []float64
	off    int
	f      numericFeature
	impute bool
}

func (e *numericEncoder) encode(dst []float64, cols, lo, hi int) error {
	for i := lo; i < hi; i++ {
		v := e.v[i]
		if math.IsNaN(v) {
			if e.impute {
				v = e.f.fill
			}
		} else if math.IsInf(v, 0) {
			return fmt.Errorf("row %d: infinite value", i)
		}
		dst[(i-lo)*cols+e.off] = (v - e.f.mean) / e.f.scale
	}
	return nil
}

type datetimeEncoder struct {
	v       []float64
	offsets []int32 // added to v for civil time (frame.Column.Local); nil for UTC
	off     int
	parts   []numericFeature
	impute  bool
}

func (e *datetimeEncoder) encode(dst []float64, cols, lo, hi int) error {
	for i := lo; i < hi; i++ {
		at := (i-lo)*cols + e.off
		row := dst[at : at+len(e.parts)]
		t := e.v[i]
		if e.offsets != nil {
			t += float64(e.offsets[i]) // civil time, row by row: RowsTo encodes blocks of a column
		}
		if math.IsNaN(t) {
			for k, p := range e.parts {
				v := math.NaN()
				if e.impute {
					v = p.fill
				}
				row[k] = (v - p.mean) / p.scale
			}
			continue
		}
		y, m, _, wd, ok := civil(t)
		if !ok {
			return fmt.Errorf("row %d: datetime %g out of range", i, t)
		}
		for k, p := range e.parts {
			var v float64
			switch p.part {
			case partYear:
				v = float64(y)
			case partMonth:
				v = float64(m)
			case partDow:
				v = float64(wd)
			}
			row[k] = (v - p.mean) / p.scale
		}
	}
	return nil
}

type oneHotEncoder struct {
	codes   []int32
	off     int
	lut     []int32 // x's code → level index, -1 for unseen
	missing int32   // level index of a missing value, -1 for none
}

func (e *oneHotEncoder) encode(dst []float64, cols, lo, hi int) error {
	for i := lo; i < hi; i++ {
		c := e.codes[i]
		j := e.missing
		if c != -1 {
			if c < -1 || int(c) >= len(e.lut) {
				return fmt.Errorf("row %d: code %d outside %d levels", i, c, len(e.lut))
			}
			j = e.lut[c]
		}
		if j >= 0 {
			dst[(i-lo)*cols+e.off+int(j)] = 1
		}
	}
	return nil
}

type ordinalEncoder struct {
	codes   []int32
	off     int
	lut     []float64 // x's code → ordinal code, -1 for unseen
	missing float64   // ordinal code of a missing value (-1 unseen, NaN)
}

func (e *ordinalEncoder) encode(dst []float64, cols, lo, hi int) error {
	for i := lo; i < hi; i++ {
		c := e.codes[i]
		v := e.missing
		if c != -1 {
			if c < -1 || int(c) >= len(e.lut) {
				return fmt.Errorf("row %d: code %d outside %d levels", i, c, len(e.lut))
			}
			v = e.lut[c]
		}
		dst[(i-lo)*cols+e.off] = v
	}
	return nil
}

// FeatureColumns returns, for each matrix column, the input column (see
// InputColumns) it encodes: a datetime column's parts and a one-hot
// column's levels all name their column. Explanations in terms of input
// columns sum the attributions of a column's features.
func (d *Design) FeatureColumns() []string {
	out := make([]string, len(d.names))
	for _, in := range d.inputs {
		for k := range in.width(d.spec.OneHot) {
			out[in.offset+k] = in.name
		}
	}
	return out
}
