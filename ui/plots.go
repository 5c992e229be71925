package ui

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/tabforge/tabforge/tune"
)

// slicePlot is one parameter's values against the objective.
type slicePlot struct {
	Name            string
	Dots            string
	XLo, XHi        string
	YLo, YHi        string
	W, H, L, B, Top int
}

// slicePlots draws, per parameter, each complete trial's value of it
// against its objective value, in a 260×180 view box.
func slicePlots(sc []*tune.FrozenTrial, ax []axis) []slicePlot {
	if len(sc) == 0 {
		return nil
	}
	lo, hi := valueRange(sc)
	out := make([]slicePlot, 0, len(ax))
	for i := range ax {
		a := &ax[i]
		p := slicePlot{Name: a.Name, XLo: a.Lo, XHi: a.Hi, YLo: num(lo), YHi: num(hi), W: 260, H: 180, L: 40, B: 160, Top: 8}
		var px pixels
		for _, t := range sc {
			v, ok := t.Params[a.Name]
			if !ok {
				continue
			}
			x := float64(p.L) + a.Scale(v)*float64(p.W-p.L-8)
			y := float64(p.B) - (t.Value-lo)/(hi-lo)*float64(p.B-p.Top)
			px.dot(x, y)
		}
		p.Dots = px.b.String()
		out = append(out, p)
	}
	return out
}

// parcoords is the parallel-coordinates plot: one vertical axis per
// parameter and the objective last; each drawn trial is a polyline, in
// one of four paths by objective quartile.
type parcoords struct {
	Axes   []pcAxis
	Paths  []pcPath // worst quarter first, so the best are drawn on top
	Drawn  int
	Of     int
	W, H   int
	Top, B int
}

type pcPath struct{ Class, D string }

type pcAxis struct {
	X      int
	Name   string
	Lo, Hi string
}

// parallel draws the best maxLines/10 trials and an even sample of the
// rest, maxLines in all; identical polylines (at whole pixels) are drawn
// once.
func parallel(sc []*tune.FrozenTrial, ax []axis, dir tune.Direction) *parcoords {
	if len(sc) == 0 || len(ax) == 0 {
		return nil
	}
	order := slices.Clone(sc)
	slices.SortStableFunc(order, func(a, b *tune.FrozenTrial) int {
		if dir == tune.Maximize {
			return cmp.Compare(b.Value, a.Value)
		}
		return cmp.Compare(a.Value, b.Value)
	})
	drawn := sample(len(order))
	lo, hi := valueRange(sc)
	pc := &parcoords{W: 900, H: 320, Top: 20, B: 290, Drawn: len(drawn), Of: len(sc)}
	n := len(ax) + 1
	xs := make([]int, n)
	for i := range n {
		xs[i] = 60 + i*(pc.W-120)/(n-1)
		if i < len(ax) {
			pc.Axes = append(pc.Axes, pcAxis{X: xs[i], Name: ax[i].Name, Lo: ax[i].Lo, Hi: ax[i].Hi})
		}
	}
	pc.Axes = append(pc.Axes, pcAxis{X: xs[n-1], Name: "objective", Lo: num(lo), Hi: num(hi)})
	var paths [4]strings.Builder
	seen := map[string]bool{}
	y := func(f float64) int { return pc.B - int(math.Round(f*float64(pc.B-pc.Top))) }
	for _, rank := range drawn {
		t := order[rank]
		var line strings.Builder
		for i := range ax {
			f := .5
			if v, ok := t.Params[ax[i].Name]; ok {
				f = ax[i].Scale(v)
			}
			cmd := 'L'
			if i == 0 {
				cmd = 'M'
			}
			fmt.Fprintf(&line, "%c%d %d", cmd, xs[i], y(f))
		}
		fmt.Fprintf(&line, "L%d %d", xs[n-1], y((t.Value-lo)/(hi-lo)))
		s := line.String()
		if seen[s] {
			continue
		}
		seen[s] = true
		paths[4*rank/len(order)].WriteString(s)
	}
	for q := 3; q >= 0; q-- {
		pc.Paths = append(pc.Paths, pcPath{Class: fmt.Sprintf("q%d", q), D: paths[q].String()})
	}
	return pc
}

// sample returns the ranks drawn out of n trials sorted best first:
// all of them up to maxLines, else the best maxLines/10 and an even
// sample of the rest.
func sample(n int) []int {
	if n <= maxLines {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	best := maxLines / 10
	out := make([]int, 0, maxLines)
	for i := range best {
		out = append(out, i)
	}
	step := float64(n-best) / float64(maxLines-best)
	for i := range maxLines - best {
		out = append(out, best+int(float64(i)*step))
	}
	return out
}
