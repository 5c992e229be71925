package ui

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/tabforge/tabforge/tune"
)

// A study's analysis draws every complete trial but keeps each SVG
// small: points are snapped to whole pixels and drawn once per pixel, so
// a slice plot of 10,000 trials is a few thousand path commands, and the
// parallel coordinates draw at most maxLines trials.

// maxLines bounds the parallel-coordinate lines: the best maxLines/10
// complete trials and an even sample of the rest.
const maxLines = 1000

// axis is a parameter's tune.Axis with the labels of its ends.
type axis struct {
	tune.Axis
	Lo, Hi string
}

// axes returns one axis per parameter in names (tune.Axes), labelled by
// the distribution's choices or bounds where it has them, else by the
// values seen.
func axes(trials []tune.FrozenTrial, names []string) []axis {
	ta := tune.Axes(trials, names)
	out := make([]axis, len(ta))
	for i, a := range ta {
		out[i] = axis{Axis: a}
		switch d := a.Dist; {
		case d.Kind == tune.Categorical && len(d.Choices) > 0:
			out[i].Lo, out[i].Hi = d.Choices[0], d.Choices[len(d.Choices)-1]
		case d.High > d.Low:
			out[i].Lo, out[i].Hi = num(d.Low), num(d.High)
		case !math.IsInf(a.Min, 1):
			out[i].Lo, out[i].Hi = num(a.Min), num(a.Max)
		}
	}
	return out
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) }

// importanceRow is one parameter's tune.ParamImportance with its bar.
type importanceRow struct {
	tune.ParamImportance
	Bar int // bar width in px, of 300
}

// importance is tune.ImportanceOn the scored trials sc on ax, with
// bars: the same ranking as `tabforge studies show`.
func importance(sc []*tune.FrozenTrial, ax []axis) []importanceRow {
	ta := make([]tune.Axis, len(ax))
	for i := range ax {
		ta[i] = ax[i].Axis
	}
	imp := tune.ImportanceOn(sc, ta)
	out := make([]importanceRow, len(imp))
	for i, r := range imp {
		out[i] = importanceRow{ParamImportance: r, Bar: int(math.Round(300 * r.Share))}
	}
	return out
}

// pixels writes "M x y h0" once per distinct whole-pixel point: a path
// of round dots whose size does not grow with the number of points
// beyond the plot's area.
type pixels struct {
	seen map[[2]int]bool
	b    strings.Builder
}

func (p *pixels) dot(x, y float64) {
	k := [2]int{int(math.Round(x)), int(math.Round(y))}
	if p.seen == nil {
		p.seen = map[[2]int]bool{}
	}
	if p.seen[k] {
		return
	}
	p.seen[k] = true
	fmt.Fprintf(&p.b, "M%d %dh0", k[0], k[1])
}

// valueRange is the objective's range over sc, widened when flat.
func valueRange(sc []*tune.FrozenTrial) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, t := range sc {
		lo, hi = math.Min(lo, t.Value), math.Max(hi, t.Value)
	}
	if hi == lo {
		lo, hi = lo-1, hi+1
	}
	return lo, hi
}
