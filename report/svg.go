package report

import (
	"fmt"
	"html"
	"image/color"
	"math"
	"strings"
)

// SVG geometry, in CSS pixels.
const (
	svgW, svgH                      = 640, 360
	marginL, marginR, marginT, marP = 72, 16, 34, 52
)

// maxTooltips caps the points that carry a hover tooltip, to keep the
// page small; the rest are drawn without one.
const maxTooltips = 600

func hex(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// svg renders c as an inline SVG element. It is written by hand rather
// than with gonum/plot's vgsvg backend (which png.go's plot description
// could feed) because, on the charts of a typical report
// (BenchmarkSVG), vgsvg takes about 4× as long and its output is a quarter
// larger while lacking what the page needs: hover tooltips (<title>),
// CSS classes for the page's fonts and print style, and a size that
// follows the page (vgsvg sets a fixed width in points and places text by
// the metrics of a font the browser lacks unless embedded, which makes a
// report of about 10 MB).
func (c *chart) svg() string {
	v := newSVGView(c)
	b := &v.b
	fmt.Fprintf(b, `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="%s">`, svgW, svgH, html.EscapeString(c.Title))
	fmt.Fprintf(b, `<rect x="0" y="0" width="%d" height="%d" fill="#fff"/>`, svgW, svgH)
	fmt.Fprintf(b, `<text x="%d" y="20" class="ct">%s</text>`, svgW/2, html.EscapeString(c.Title))
	v.valueTicks()
	v.categoryTicks()
	fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="frame"/>`, v.left, v.top, v.right-v.left, v.bottom-v.top)
	v.references()
	v.series()
	v.axisLabels()
	v.legend()
	v.colorBar()
	b.WriteString(`</svg>`)
	return b.String()
}

// svgView is one chart being drawn: its plot area in SVG pixels and the
// maps from data values to it.
type svgView struct {
	c                        *chart
	b                        strings.Builder
	left, right, top, bottom float64
	xmin, xmax, ymin, ymax   float64
	// vx and vy map data values to pixels. For horizontal bars the value
	// axis is x and categories run down y.
	vx, vy func(float64) float64
}

// rotatedDrop is the room a chart with rotated category labels takes
// from its plot area.
const rotatedDrop = 40

// rotatedLabels reports whether the x categories are drawn rotated:
// vertical bars with more than six.
func (c *chart) rotatedLabels() bool {
	return c.isBar() && !c.Horizontal && len(c.Categories) > 6
}

func newSVGView(c *chart) *svgView {
	v := &svgView{c: c, left: marginL, right: svgW - marginR, top: marginT, bottom: svgH - marP}
	if c.Horizontal || c.YCategories != nil {
		v.left = 150
	}
	if c.ColorLabel != "" {
		v.right -= 40
	}
	if c.rotatedLabels() {
		// A rotated label of 14 characters drops about 50 px: it ran off
		// the bottom of the chart and over the axis title.
		v.bottom -= rotatedDrop
	}
	v.xmin, v.xmax, v.ymin, v.ymax = c.bounds()
	if c.isBar() && !c.Horizontal && c.Legend == topRight && c.named() > 0 {
		// Head room for the legend above the tallest bar, as in the PNG:
		// the legend hid the tops of the bars under it.
		v.ymax += 0.2 * (v.ymax - v.ymin)
	}
	v.vx = func(x float64) float64 { return v.left + (x-v.xmin)/(v.xmax-v.xmin)*(v.right-v.left) }
	v.vy = func(y float64) float64 { return v.bottom - (y-v.ymin)/(v.ymax-v.ymin)*(v.bottom-v.top) }
	if c.Horizontal {
		v.vx = func(x float64) float64 { return v.left + (x-v.ymin)/(v.ymax-v.ymin)*(v.right-v.left) }
		v.vy = func(y float64) float64 { return v.top + (y-v.xmin)/(v.xmax-v.xmin)*(v.bottom-v.top) }
	}
	return v
}

// valueTicks draws the grid and ticks of the value axis.
func (v *svgView) valueTicks() {
	switch {
	case v.c.Horizontal:
		for _, t := range ticks(v.ymin, v.ymax, 5) {
			x := v.vx(t)
			fmt.Fprintf(&v.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/><text x="%.1f" y="%.1f" class="tx">%s</text>`, x, v.top, x, v.bottom, x, v.bottom+16, num(t))
		}
	case v.c.YCategories == nil:
		for _, t := range ticks(v.ymin, v.ymax, 5) {
			y := v.vy(t)
			fmt.Fprintf(&v.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/><text x="%.1f" y="%.1f" class="ty">%s</text>`, v.left, y, v.right, y, v.left-6, y+4, num(t))
		}
	}
}

// categoryTicks draws the bar categories' labels, or the x ticks and
// y categories of the other charts.
func (v *svgView) categoryTicks() {
	c := v.c
	switch {
	case c.isBar() && c.Horizontal:
		for i, name := range c.Categories {
			fmt.Fprintf(&v.b, `<text x="%.1f" y="%.1f" class="ty">%s</text>`, v.left-6, v.vy(float64(i))+4, html.EscapeString(shorten(name, 22)))
		}
	case c.isBar():
		rotate := c.rotatedLabels()
		// Label at most about 16 bars, evenly.
		every := (len(c.Categories) + 15) / 16
		for i, name := range c.Categories {
			if i%every != 0 {
				continue
			}
			x := v.vx(float64(i))
			if rotate {
				fmt.Fprintf(&v.b, `<text x="%.1f" y="%.1f" class="tr" transform="rotate(-35 %.1f %.1f)">%s</text>`, x, v.bottom+14, x, v.bottom+14, html.EscapeString(shorten(name, 14)))
			} else {
				fmt.Fprintf(&v.b, `<text x="%.1f" y="%.1f" class="tx">%s</text>`, x, v.bottom+16, html.EscapeString(shorten(name, 18)))
			}
		}
	case len(c.Categories) > 0:
		// Lines over ordered categories (backtest periods) at x = 0, 1, …:
		// numeric ticks would put labels such as 0.5 between them.
		every := (len(c.Categories) + 7) / 8
		for i, name := range c.Categories {
			if i%every != 0 {
				continue
			}
			x := v.vx(float64(i))
			fmt.Fprintf(&v.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/><text x="%.1f" y="%.1f" class="tx">%s</text>`, x, v.top, x, v.bottom, x, v.bottom+16, html.EscapeString(shorten(name, 14)))
		}
	default:
		for _, t := range ticks(v.xmin, v.xmax, 6) {
			x := v.vx(t)
			fmt.Fprintf(&v.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/><text x="%.1f" y="%.1f" class="tx">%s</text>`, x, v.top, x, v.bottom, x, v.bottom+16, c.xTick(t))
		}
		for i, name := range c.YCategories {
			y := v.vy(float64(i))
			fmt.Fprintf(&v.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/><text x="%.1f" y="%.1f" class="ty">%s</text>`, v.left, y, v.right, y, v.left-6, y+4, html.EscapeString(shorten(name, 22)))
		}
	}
}

// references draws the y = x diagonal and the zero line where asked.
func (v *svgView) references() {
	c := v.c
	if c.Diagonal {
		lo, hi := math.Max(v.xmin, v.ymin), math.Min(v.xmax, v.ymax)
		fmt.Fprintf(&v.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="ref"/>`, v.vx(lo), v.vy(lo), v.vx(hi), v.vy(hi))
	}
	if c.ZeroY && !c.Horizontal && v.ymin < 0 && v.ymax > 0 {
		fmt.Fprintf(&v.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="ref"/>`, v.left, v.vy(0), v.right, v.vy(0))
	}
}

func (v *svgView) series() {
	nbars := 0
	for _, s := range v.c.Series {
		if s.Kind == bars {
			nbars++
		}
	}
	st := barStack{pos: make([]float64, len(v.c.Categories)), neg: make([]float64, len(v.c.Categories))}
	for _, s := range v.c.Series {
		switch s.Kind {
		case bars:
			v.bars(s, nbars, &st)
			st.index++
		case line:
			v.line(s)
		case points:
			v.points(s)
		}
	}
}

// barStack carries what bar series drawn so far take up: the index of the
// next bar series (side by side) and each category's stacked heights.
type barStack struct {
	index    int
	pos, neg []float64
}

func (v *svgView) bars(s series, nbars int, st *barStack) {
	c := v.c
	width := 0.8
	if !c.Stacked {
		width /= float64(nbars)
	}
	for i, y := range s.Y {
		if i >= len(c.Categories) || math.IsNaN(y) {
			continue
		}
		center := float64(i)
		if !c.Stacked {
			center += -0.4 + width*(float64(st.index)+0.5)
		}
		base := 0.0
		if c.Stacked {
			if y >= 0 {
				base, st.pos[i] = st.pos[i], st.pos[i]+y
			} else {
				base, st.neg[i] = st.neg[i], st.neg[i]+y
			}
		}
		tip := fmt.Sprintf("%s: %s", c.Categories[i], num(y))
		if s.Name != "" {
			tip = s.Name + " · " + tip
		}
		if c.Horizontal {
			x0, x1 := v.vx(math.Min(base, base+y)), v.vx(math.Max(base, base+y))
			y0, y1 := v.vy(center-width/2), v.vy(center+width/2)
			fmt.Fprintf(&v.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`, x0, y0, math.Max(x1-x0, 0.5), y1-y0, hex(s.Color), html.EscapeString(tip))
		} else {
			x0, x1 := v.vx(center-width/2), v.vx(center+width/2)
			y0, y1 := v.vy(math.Max(base, base+y)), v.vy(math.Min(base, base+y))
			fmt.Fprintf(&v.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`, x0, y0, x1-x0, math.Max(y1-y0, 0.5), hex(s.Color), html.EscapeString(tip))
		}
	}
}

func (v *svgView) line(s series) {
	var pts []string
	for i := range s.Y {
		if math.IsNaN(s.X[i]) || math.IsNaN(s.Y[i]) {
			continue
		}
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", v.vx(s.X[i]), v.vy(s.Y[i])))
	}
	style := ""
	switch {
	case s.Thin:
		style = ` stroke-width="0.8" stroke-opacity="0.35"`
	case s.Dashed:
		style = ` stroke-width="2" stroke-dasharray="6 4"`
	default:
		style = ` stroke-width="2.2"`
	}
	fmt.Fprintf(&v.b, `<polyline fill="none" stroke="%s"%s points="%s"/>`, hex(s.Color), style, strings.Join(pts, " "))
	if s.Thin || len(s.Y) > 40 {
		return
	}
	for i := range s.Y {
		if math.IsNaN(s.X[i]) || math.IsNaN(s.Y[i]) {
			continue
		}
		fmt.Fprintf(&v.b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s (%s, %s)</title></circle>`, v.vx(s.X[i]), v.vy(s.Y[i]), hex(s.Color), html.EscapeString(s.Name), num(s.X[i]), num(s.Y[i]))
	}
}

func (v *svgView) points(s series) {
	r := 2.6
	if len(s.Y) > 2000 {
		r = 1.6
	}
	for i := range s.Y {
		if math.IsNaN(s.X[i]) || math.IsNaN(s.Y[i]) {
			continue
		}
		col := s.Color
		if s.Heat != nil {
			col = heatColor(s.Heat[i])
		}
		if i < maxTooltips {
			fmt.Fprintf(&v.b, `<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s" fill-opacity="0.65"><title>(%s, %s)</title></circle>`, v.vx(s.X[i]), v.vy(s.Y[i]), r, hex(col), num(s.X[i]), num(s.Y[i]))
		} else {
			fmt.Fprintf(&v.b, `<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s" fill-opacity="0.65"/>`, v.vx(s.X[i]), v.vy(s.Y[i]), r, hex(col))
		}
	}
}

// axisLabels writes the axis titles; horizontal bars put the value
// (YLabel) along x.
func (v *svgView) axisLabels() {
	xl, yl := v.c.XLabel, v.c.YLabel
	if v.c.Horizontal {
		xl, yl = yl, xl
	}
	if xl != "" {
		fmt.Fprintf(&v.b, `<text x="%.1f" y="%d" class="al">%s</text>`, (v.left+v.right)/2, svgH-10, html.EscapeString(xl))
	}
	if yl != "" {
		mid := (v.top + v.bottom) / 2
		fmt.Fprintf(&v.b, `<text x="14" y="%.1f" class="al" transform="rotate(-90 14 %.1f)">%s</text>`, mid, mid, html.EscapeString(yl))
	}
}

func (v *svgView) legend() {
	c := v.c
	ly, lx := v.top+6, v.right-150
	if c.Legend == bottomLeft {
		lx = v.left + 10
	}
	if c.Legend != topRight {
		ly = v.bottom - 6 - 15*float64(c.named())
	}
	for _, s := range c.Series {
		if s.Name == "" || s.Thin {
			continue
		}
		fmt.Fprintf(&v.b, `<rect x="%.1f" y="%.1f" width="10" height="10" fill="%s"/><text x="%.1f" y="%.1f" class="lg">%s</text>`, lx, ly, hex(s.Color), lx+14, ly+9, html.EscapeString(shorten(s.Name, 22)))
		ly += 15
	}
}

func (v *svgView) colorBar() {
	c := v.c
	if c.ColorLabel == "" {
		return
	}
	x := v.right + 14
	fmt.Fprintf(&v.b, `<defs><linearGradient id="heat-%s" x1="0" y1="1" x2="0" y2="0"><stop offset="0" stop-color="%s"/><stop offset="1" stop-color="%s"/></linearGradient></defs>`, c.File, hex(heatColor(0)), hex(heatColor(1)))
	fmt.Fprintf(&v.b, `<rect x="%.1f" y="%.1f" width="10" height="%.1f" fill="url(#heat-%s)"/>`, x, v.top, v.bottom-v.top, c.File)
	fmt.Fprintf(&v.b, `<text x="%.1f" y="%.1f" class="lg">high</text><text x="%.1f" y="%.1f" class="lg">low</text>`, x-2, v.top-4, x-2, v.bottom+12)
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
