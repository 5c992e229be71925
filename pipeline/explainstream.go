package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/tabforge/tabforge/explain"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
)

// This file explains rows of a model's data without holding the data:
// when they are measured against training rows, the rows explained are
// all Explain needs, with, on raw inputs, what the whole data decides of
// their layout (category codes, datetime offsets).

// ExplainStreams reports whether ExplainScanned and LIMEScanned explain
// p with o: p is explained against training rows (o.Background, or the
// rows p keeps). Otherwise the explanation needs every data row as its
// background (the k-means summary of them all), and Explain and LIME
// read them from a frame.
func ExplainStreams(p *Predictor, o ExplainOptions) bool {
	return o.Background != nil || p.Background != ""
}

// ExplainScanned is Explain on the input s (ScanInput), which it reads
// again a block of rows at a time, keeping the rows explained: memory
// holds a block and those rows, not the data. A single model explained
// on its design has every row designed, so that a value the design
// refuses fails as it does in Explain; on raw inputs (an ensemble, a
// routed predictor, o.Raw) the pass also keeps each categorical column's
// labels and each datetime column's distinct values, which decide the
// rows' category codes and UTC offsets (pickScanned). The rows, values
// and errors are Explain's on the whole input read with ReadInput. It
// needs ExplainStreams(p, o).
func ExplainScanned(ctx context.Context, p *Predictor, s *ScannedInput, o ExplainOptions) (*explain.Values, error) {
	e, err := setUpScanned(ctx, p, s, o)
	if err != nil {
		return nil, err
	}
	return e.explain(ctx, p, nil, o)
}

// LIMEScanned is LIME on the input s, read as ExplainScanned reads it.
func LIMEScanned(ctx context.Context, p *Predictor, s *ScannedInput, o ExplainOptions) (*explain.LIMEExplanation, []int, error) {
	e, err := setUpScanned(ctx, p, s, o)
	if err != nil {
		return nil, nil, err
	}
	return e.lime(ctx, o)
}

// setUpScanned is setUpExplanation on the input s, which it reads again
// a block at a time.
func setUpScanned(ctx context.Context, p *Predictor, s *ScannedInput, o ExplainOptions) (*explanation, error) {
	if !ExplainStreams(p, o) {
		return nil, errors.New("explain: this model is explained on all data rows, which a scanned input does not hold")
	}
	if err := s.Report.Err(false); err != nil {
		return nil, err
	}
	if explainsRaw(p, o) {
		return setUp(p, s.Rows, o, func(e *explanation, _ bool) (int, error) {
			return scannedRaw(ctx, p, s, o, e)
		})
	}
	return setUp(p, s.Rows, o, func(e *explanation, _ bool) (int, error) {
		mat, err := designScanned(ctx, p, s, e.rows)
		if err != nil {
			return 0, err
		}
		e.in = designed(p, mat)
		return 0, nil
	})
}

// designScanned reads s again a block of rows at a time, applies p's
// feature chain and design to each block and keeps the design of rows,
// in their order (a row out of range is left zero, for the caller to
// refuse). The chain sees a block at a time, as it does when predicting
// a stream.
func designScanned(ctx context.Context, p *Predictor, s *ScannedInput, rows []int) (*model.Matrix, error) {
	pk := newPicker(rows, len(p.Design.FeatureNames()))
	var buf []float64
	err := s.rescan(ctx, func(x *frame.Frame, first int) error {
		if len(p.Chain) > 0 {
			var err error
			if x, err = p.Chain.Transform(x); err != nil {
				return fmt.Errorf("advanced features: %w", err)
			}
		}
		m, err := p.Design.RowsTo(buf, x, 0, x.NumRows())
		if err != nil {
			return err
		}
		buf = m.Data
		pk.take(m, first)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return pk.out, nil
}

// rescan reads s again a block of predictBlockRows rows at a time,
// handing f each block and the data row of its first row, and refuses an
// input whose rows are no longer those it counted.
func (s *ScannedInput) rescan(ctx context.Context, f func(x *frame.Frame, first int) error) error {
	src, err := s.open(s.read)
	if err != nil {
		return err
	}
	defer src.Close()
	rows, err := eachBlock(ctx, src, predictBlockRows, f)
	if err != nil {
		return err
	}
	if rows != s.Rows {
		return fmt.Errorf("explain: the data has %d rows, %d when it was checked: it changed while read", rows, s.Rows)
	}
	return nil
}

// designRows encodes xt's rows a block of predictBlockRows at a time
// into one buffer and copies out the rows asked for, in their order.
func designRows(p *Predictor, xt *frame.Frame, rows []int) (*model.Matrix, error) {
	pk := newPicker(rows, len(p.Design.FeatureNames()))
	var buf []float64
	for lo := 0; lo < xt.NumRows(); lo += predictBlockRows {
		hi := min(lo+predictBlockRows, xt.NumRows())
		m, err := p.Design.RowsTo(buf, xt, lo, hi)
		if err != nil {
			return nil, err
		}
		buf = m.Data
		pk.take(m, lo)
	}
	return pk.out, nil
}

// picker copies chosen rows out of consecutive blocks of a design
// matrix into out, in the order they were asked for.
type picker struct {
	cur rowCursor
	out *model.Matrix
}

func newPicker(rows []int, cols int) *picker {
	return &picker{cur: newRowCursor(rows), out: model.NewMatrix(len(rows), cols)}
}

// take copies the chosen rows in m, the design of rows [lo, lo+m.Rows).
// Blocks come in row order; a row out of range is left zero.
func (pk *picker) take(m *model.Matrix, lo int) {
	cols := pk.out.Cols
	local, idx := pk.cur.block(lo, m.Rows)
	for k, r := range local {
		i := idx[k]
		copy(pk.out.Data[i*cols:(i+1)*cols], m.Data[r*cols:(r+1)*cols])
	}
}

// rowCursor walks rows asked for (any order, repeats allowed) through
// the consecutive blocks of a data pass.
type rowCursor struct {
	rows  []int
	order []int // indices into rows, by row, a repeated row's in rows' order
	next  int   // the first index of order not yet met
}

func newRowCursor(rows []int) rowCursor {
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return rows[a] - rows[b] })
	return rowCursor{rows: rows, order: order}
}

// block returns the rows asked for that lie in the block of n rows from
// data row first, as positions in the block (local) and indices into
// rows (idx), in data order. Blocks must come in row order; a row before
// first (out of range) is passed over.
func (c *rowCursor) block(first, n int) (local, idx []int) {
	for ; c.next < len(c.order) && c.rows[c.order[c.next]] < first+n; c.next++ {
		if r := c.rows[c.order[c.next]]; r >= first {
			local, idx = append(local, r-first), append(idx, c.order[c.next])
		}
	}
	return local, idx
}

// scannedRaw sets e's raw explanation input: p's training background
// rows (unless o gives the background) followed by e.rows of s, which it
// reads again a block of rows at a time, laid out as Explain lays out the
// whole data (see pickScanned). It returns the number of background rows.
func scannedRaw(ctx context.Context, p *Predictor, s *ScannedInput, o ExplainOptions, e *explanation) (int, error) {
	var bg *frame.Frame
	if o.Background == nil {
		var err error
		if bg, err = backgroundFrame(p); err != nil {
			return 0, err
		}
	}
	xr, zones, err := pickScanned(ctx, p, s, e.rows, bg)
	if err != nil {
		return 0, err
	}
	both, nb := xr, 0
	if bg != nil {
		if both, err = frame.Concat(bg, xr); err != nil {
			return 0, fmt.Errorf("explain: %w", err)
		}
		nb = bg.NumRows()
	}
	if e.in, err = rawInput(p, both, zones); err != nil {
		return 0, err
	}
	e.held, e.xr = true, xr
	return nb, nil
}
