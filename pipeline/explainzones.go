package pipeline

import (
	"cmp"
	"math"
	"slices"
	"sort"

	"github.com/tabforge/tabforge/frame"
)

// civilZones maps the civil times (frame.Column.Local) of a datetime
// column that keeps UTC offsets back to instants with offsets. A raw
// explanation lays datetimes out in civil time, which is what calendar
// and temporal features read, and mixes, averages (the k-means
// background) and perturbs (LIME) them; the predictor must then see each
// value as an instant written with an offset again, or it reads the
// instant in UTC (monthly rows at 00:00+02:00 in the month before).
// Each value takes the offset of the nearest civil time the data holds:
// exact for a value of the data (models saved before offsets were kept
// read the instant, so it must be the one written), and the offset in
// force around it for a synthesised one.
type civilZones struct {
	civil []float64 // ascending, distinct
	off   []int32   // the offset written with civil[i]
}

// newCivilZones returns the civil times and offsets of c, or nil when c
// is not a datetime column with offsets (its values are its instants).
func newCivilZones(c *frame.Column) *civilZones {
	if c.Kind != frame.Datetime || c.Offsets == nil {
		return nil
	}
	idx := make([]int, 0, len(c.Num))
	for i, v := range c.Num {
		if !math.IsNaN(v) {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(c.Local(a), c.Local(b)) })
	z := &civilZones{}
	for _, i := range idx {
		if v := c.Local(i); len(z.civil) == 0 || v != z.civil[len(z.civil)-1] {
			z.civil, z.off = append(z.civil, v), append(z.off, c.Offsets[i])
		}
	}
	return z
}

// offset returns the offset of the civil time nearest v (the earlier on
// a tie); 0 for NaN.
func (z *civilZones) offset(v float64) int32 {
	if math.IsNaN(v) || len(z.civil) == 0 {
		return 0
	}
	i := sort.SearchFloat64s(z.civil, v)
	if i == len(z.civil) || (i > 0 && v-z.civil[i-1] <= z.civil[i]-v) {
		i--
	}
	return z.off[i]
}

// column returns a datetime column of the given civil times, each at its
// instant and offset.
func (z *civilZones) column(name string, civil []float64) *frame.Column {
	num, offs := make([]float64, len(civil)), make([]int32, len(civil))
	for r, v := range civil {
		o := z.offset(v)
		num[r], offs[r] = v-float64(o), o
	}
	return frame.NewDatetimeOffsets(name, num, offs)
}
