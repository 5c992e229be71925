package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tabforge/tabforge/frame"
)

// pickScanned reads s again a block of rows at a time and returns the
// data rows rows, in rows' order, as a frame of p's schema columns laid
// out as they are in the input read whole (ReadInput): a categorical
// column's levels are every label of the input, sorted as the readers
// sort them, so that its codes are the whole frame's; a datetime column
// keeps offsets when any row of the input has one. zones are, in schema
// order, the datetime zones (newDatetimeZones) of bg's rows followed by
// the input's: a raw explanation gives a synthesised datetime the offset
// of the nearest value in them all. A row out of range is left out, for
// the caller to refuse. Memory holds a block, the rows picked and the
// distinct labels and datetime values of the input, not its rows.
func pickScanned(ctx context.Context, p *Predictor, s *ScannedInput, rows []int, bg *frame.Frame) (*frame.Frame, []*datetimeZones, error) {
	cols := make([]*pickedColumn, len(p.Schema))
	zv := make([]*zoneValues, len(p.Schema))
	civil := !p.readsInstants()
	for j, f := range p.Schema {
		cols[j] = &pickedColumn{name: f.Name, kind: f.Kind}
		if f.Kind != frame.Datetime {
			continue
		}
		zv[j] = &zoneValues{civil: civil}
		if bg != nil {
			if c, ok := bg.Lookup(f.Name); ok {
				zv[j].add(c)
			}
		}
	}
	cur := newRowCursor(rows)
	var at []int // the index into rows of each row picked, in data order
	err := s.rescan(ctx, func(x *frame.Frame, first int) error {
		local, idx := cur.block(first, x.NumRows())
		at = append(at, idx...)
		for j, f := range p.Schema {
			c, _ := x.Lookup(f.Name) // the scan's report found every one
			cols[j].take(c, local)
			if zv[j] != nil {
				zv[j].add(c)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return pickedFrame(cols, zv, rows, at)
}

// pickedFrame lays the columns picked out as a frame whose row i is row
// rows[i] of the data (at[k] is the index into rows of the k-th row
// picked), and returns it with the zones of zv.
func pickedFrame(cols []*pickedColumn, zv []*zoneValues, rows []int, at []int) (*frame.Frame, []*datetimeZones, error) {
	where := make([]int, len(rows))
	for i := range where {
		where[i] = -1 // out of range
	}
	for k, i := range at {
		where[i] = k
	}
	perm := make([]int, 0, len(at))
	for _, k := range where {
		if k >= 0 {
			perm = append(perm, k)
		}
	}
	out := make([]*frame.Column, len(cols))
	zones := make([]*datetimeZones, len(cols))
	for j, c := range cols {
		out[j] = c.column().Take(perm)
		if zv[j] != nil {
			zones[j] = zv[j].zones()
		}
	}
	f, err := frame.New(out...)
	if err != nil {
		return nil, nil, fmt.Errorf("explain: %w", err)
	}
	return f, zones, nil
}

// pickedColumn is one column's rows picked from the blocks of an input,
// in data order, and what the input's whole column would show of the
// rest: its labels, and whether it keeps offsets.
type pickedColumn struct {
	name    string
	kind    frame.Kind
	num     []float64
	offsets []int32             // of a datetime's num, each row's (0 if none)
	codes   []int32             // into lv, the labels of the rows picked
	lv      []string            // labels of the rows picked, as first met
	local   map[string]int32    // lv's codes
	labels  map[string]struct{} // every label of the input
	offset  bool                // a row of the input has an offset
}

// take adds rows local of c, a block's column of pc's kind (the scan
// pinned it), and notes its labels and offsets. Labels are copied: a
// reader's labels may share the block's memory.
func (pc *pickedColumn) take(c *frame.Column, local []int) {
	if c.Kind != frame.Categorical {
		pc.offset = pc.offset || c.Offsets != nil
		for _, r := range local {
			pc.num = append(pc.num, c.Num[r])
			if c.Kind == frame.Datetime {
				pc.offsets = append(pc.offsets, c.Offset(r))
			}
		}
		return
	}
	if pc.labels == nil {
		pc.labels, pc.local = map[string]struct{}{}, map[string]int32{}
	}
	for _, l := range c.Levels {
		if _, ok := pc.labels[l]; !ok {
			pc.labels[strings.Clone(l)] = struct{}{}
		}
	}
	for _, r := range local {
		code := int32(-1)
		if c.Codes[r] >= 0 {
			l := c.Levels[c.Codes[r]]
			var ok bool
			if code, ok = pc.local[l]; !ok {
				code = int32(len(pc.lv))
				pc.local[l] = code
				pc.lv = append(pc.lv, strings.Clone(l))
			}
		}
		pc.codes = append(pc.codes, code)
	}
}

// column is the rows picked as a column of the whole input.
func (pc *pickedColumn) column() *frame.Column {
	if pc.kind != frame.Categorical {
		c := &frame.Column{Name: pc.name, Kind: pc.kind, Num: pc.num}
		if pc.offset {
			c.Offsets = pc.offsets
		}
		return c
	}
	levels := make([]string, 0, len(pc.labels))
	for l := range pc.labels {
		levels = append(levels, l)
	}
	slices.Sort(levels)
	codes := make([]int32, len(pc.codes))
	for i, code := range pc.codes {
		codes[i] = -1
		if code >= 0 {
			k, _ := slices.BinarySearch(levels, pc.lv[code])
			codes[i] = int32(k)
		}
	}
	return frame.NewCategorical(pc.name, codes, levels)
}
