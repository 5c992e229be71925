package pipeline

import (
	"cmp"
	"math"
	"slices"
	"sort"

	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/frame"
)

// datetimeZones maps the values a raw explanation lays a datetime column
// that keeps UTC offsets out as back to instants with offsets. The values
// are civil times (frame.Column.Local), which is what calendar and
// temporal features read, or, for a predictor with features saved before
// offsets were kept (readsInstants), the instants those read: civil time
// cannot tell apart two instants written at the same wall-clock time,
// such as the hour repeated when clocks fall back. A raw explanation
// mixes, averages (the k-means background) and perturbs (LIME) the
// values; the predictor must then see each as an instant written with an
// offset again, or it reads civil time as the instant in UTC (monthly
// rows at 00:00+02:00 in the month before). Each value takes the offset
// of the nearest value the data holds: exact for a value of the data,
// and the offset in force around it for a synthesised one.
type datetimeZones struct {
	civil bool      // values are civil times, else instants
	at    []float64 // the data's values, ascending, distinct
	off   []int32   // the offset written with at[i]
}

// newDatetimeZones returns the zones of c's values, civil times or
// instants, or nil when c is not a datetime column with offsets (its
// values are its instants).
func newDatetimeZones(c *frame.Column, civil bool) *datetimeZones {
	if c.Kind != frame.Datetime {
		return nil
	}
	zv := &zoneValues{civil: civil}
	zv.add(c)
	return zv.zones()
}

// zoneValues gathers the values of a datetime column read in parts (a
// training background, then the data a block of rows at a time) and the
// offset each value was first written with: the values datetimeZones
// keeps for the whole column. It holds each distinct value once, after
// the parts read since it last compacted.
type zoneValues struct {
	civil   bool
	vals    []zoneValue // vals[:sorted] ascending and distinct, then the values added since
	sorted  int
	offsets bool // some part kept offsets: the whole column has them
}

type zoneValue struct {
	at  float64
	off int32
}

// add gathers c's values, rows after those added before.
func (z *zoneValues) add(c *frame.Column) {
	if c.Offsets != nil {
		z.offsets = true
	}
	for i, v := range c.Num {
		if !math.IsNaN(v) {
			z.vals = append(z.vals, zoneValue{z.value(c, i), c.Offset(i)})
		}
	}
	if len(z.vals) > 2*z.sorted+predictBlockRows {
		z.compact()
	}
}

// compact sorts the values, keeping the first offset of each: the sort
// is stable and the values kept before come before those added since.
func (z *zoneValues) compact() {
	slices.SortStableFunc(z.vals, func(a, b zoneValue) int { return cmp.Compare(a.at, b.at) })
	z.vals = slices.CompactFunc(z.vals, func(a, b zoneValue) bool { return a.at == b.at })
	z.sorted = len(z.vals)
}

// zones returns the zones of the values added, or nil when no part kept
// offsets.
func (z *zoneValues) zones() *datetimeZones {
	if !z.offsets {
		return nil
	}
	z.compact()
	dz := &datetimeZones{civil: z.civil, at: make([]float64, len(z.vals)), off: make([]int32, len(z.vals))}
	for i, v := range z.vals {
		dz.at[i], dz.off[i] = v.at, v.off
	}
	return dz
}

// value is row i of c as z lays it out: its civil time or its instant.
func (z *datetimeZones) value(c *frame.Column, i int) float64 { return datetimeValue(c, i, z.civil) }

func (z *zoneValues) value(c *frame.Column, i int) float64 { return datetimeValue(c, i, z.civil) }

// datetimeValue is row i of c as a raw explanation lays it out: its civil
// time, or its instant when not civil.
func datetimeValue(c *frame.Column, i int, civil bool) float64 {
	if civil {
		return c.Local(i)
	}
	return c.Num[i]
}

// offset returns the offset of the data's value nearest v (the earlier
// on a tie); 0 for NaN.
func (z *datetimeZones) offset(v float64) int32 {
	if math.IsNaN(v) || len(z.at) == 0 {
		return 0
	}
	i := sort.SearchFloat64s(z.at, v)
	if i == len(z.at) || (i > 0 && v-z.at[i-1] <= z.at[i]-v) {
		i--
	}
	return z.off[i]
}

// column returns a datetime column of the given values, each at its
// instant and offset.
func (z *datetimeZones) column(name string, values []float64) *frame.Column {
	num, offs := make([]float64, len(values)), make([]int32, len(values))
	for r, v := range values {
		o := z.offset(v)
		num[r], offs[r] = v, o
		if z.civil {
			num[r] = v - float64(o)
		}
	}
	return frame.NewDatetimeOffsets(name, num, offs)
}

// readsInstants reports whether some part of p reads a datetime input as
// its UTC instant rather than in the civil time it was written in, as
// features saved before UTC offsets were kept do.
func (p *Predictor) readsInstants() bool {
	type utcReader interface{ ReadsUTC() bool }
	reads := func(chain features.FittedChain, d *features.Design) bool {
		if d != nil && d.ReadsUTC() {
			return true
		}
		return slices.ContainsFunc(chain, func(f features.Fitted) bool {
			r, ok := f.(utcReader)
			return ok && r.ReadsUTC()
		})
	}
	if reads(p.Chain, p.Design) {
		return true
	}
	for _, m := range p.Members {
		if reads(m.Chain, m.Design) {
			return true
		}
	}
	if p.Routes != nil {
		for _, r := range p.Routes.Models {
			if r.readsInstants() {
				return true
			}
		}
	}
	return false
}
