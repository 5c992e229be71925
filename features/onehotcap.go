package features

import (
	"slices"

	"github.com/tabforge/tabforge/frame"
)

// capOneHot refits the categorical inputs of d so that their one-hot
// columns add up to at most d.spec.MaxOneHotColumns (see DesignSpec). The
// cap exists because the design matrix is dense: one-hot columns cost
// rows × columns × 8 bytes whether or not they are zero, and on a
// million rows the per-column cap alone still let a few id-like columns
// make a 17 GB matrix.
func (d *Design) capOneHot(train *frame.Frame) error {
	limit := d.spec.MaxOneHotColumns
	if !d.spec.OneHot || limit <= 0 {
		return nil
	}
	var cats []*inputColumn
	total := 0
	for _, in := range d.inputs {
		if in.kind == frame.Categorical {
			cats = append(cats, in)
			total += len(in.levels)
		}
	}
	if total <= limit {
		return nil
	}
	spec := d.spec
	spec.MaxOneHotLevels = oneHotLevelCap(cats, limit)
	if d.spec.MaxOneHotLevels > 0 {
		spec.MaxOneHotLevels = min(spec.MaxOneHotLevels, d.spec.MaxOneHotLevels)
	}
	for i, in := range d.inputs {
		if in.kind != frame.Categorical || in.labels <= spec.MaxOneHotLevels {
			continue
		}
		j := slices.IndexFunc(train.Columns(), func(c *frame.Column) bool { return c.Name == in.name })
		refit, err := fitColumn(train.Col(j), &spec)
		if err != nil {
			return err
		}
		d.inputs[i] = refit
	}
	return nil
}

// oneHotLevelCap returns the largest per-column level cap L (at least 1)
// under which cats' one-hot columns add up to at most limit: a column of
// n training labels keeps n columns if n <= L, else L and OtherLevel.
// Columns with few levels thus keep them all, and the many-level ones
// share what is left equally.
func oneHotLevelCap(cats []*inputColumn, limit int) int {
	width := func(levelCap int) int {
		w := 0
		for _, in := range cats {
			if in.labels <= levelCap {
				w += in.labels
			} else {
				w += levelCap + 1
			}
		}
		return w
	}
	most := 1
	for _, in := range cats {
		most = max(most, in.labels)
	}
	// width is nondecreasing in the cap: search the largest that fits.
	lo, hi := 1, most // width(lo) may exceed limit: 1 is the floor
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if width(mid) <= limit {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}
