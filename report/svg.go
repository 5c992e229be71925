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
	var b strings.Builder
	left := float64(marginL)
	if c.Horizontal || c.YCategories != nil {
		left = 150
	}
	right := float64(svgW - marginR)
	if c.ColorLabel != "" {
		right -= 40
	}
	top, bottom := float64(marginT), float64(svgH-marP)
	xmin, xmax, ymin, ymax := c.bounds()
	// For horizontal bars the value axis is x and categories run down y.
	vx := func(v float64) float64 { return left + (v-xmin)/(xmax-xmin)*(right-left) }
	vy := func(v float64) float64 { return bottom - (v-ymin)/(ymax-ymin)*(bottom-top) }
	if c.Horizontal {
		vx = func(v float64) float64 { return left + (v-ymin)/(ymax-ymin)*(right-left) }
		vy = func(v float64) float64 { return top + (v-xmin)/(xmax-xmin)*(bottom-top) }
	}
	fmt.Fprintf(&b, `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="%s">`, svgW, svgH, html.EscapeString(c.Title))
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%d" height="%d" fill="#fff"/>`, svgW, svgH)
	fmt.Fprintf(&b, `<text x="%d" y="20" class="ct">%s</text>`, svgW/2, html.EscapeString(c.Title))

	// Grid and value ticks.
	valueTicks := ticks(ymin, ymax, 5)
	if c.Horizontal {
		for _, t := range valueTicks {
			x := vx(t)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/><text x="%.1f" y="%.1f" class="tx">%s</text>`, x, top, x, bottom, x, bottom+16, num(t))
		}
	} else if c.YCategories == nil {
		for _, t := range valueTicks {
			y := vy(t)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/><text x="%.1f" y="%.1f" class="ty">%s</text>`, left, y, right, y, left-6, y+4, num(t))
		}
	}
	// Category or x ticks.
	switch {
	case c.isBar() && c.Horizontal:
		for i, name := range c.Categories {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="ty">%s</text>`, left-6, vy(float64(i))+4, html.EscapeString(shorten(name, 22)))
		}
	case c.isBar():
		rotate := len(c.Categories) > 6
		// Label at most about 16 bars, evenly.
		every := (len(c.Categories) + 15) / 16
		for i, name := range c.Categories {
			if i%every != 0 {
				continue
			}
			x := vx(float64(i))
			if rotate {
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="tr" transform="rotate(-35 %.1f %.1f)">%s</text>`, x, bottom+14, x, bottom+14, html.EscapeString(shorten(name, 14)))
			} else {
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="tx">%s</text>`, x, bottom+16, html.EscapeString(shorten(name, 18)))
			}
		}
	default:
		for _, t := range ticks(xmin, xmax, 6) {
			x := vx(t)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/><text x="%.1f" y="%.1f" class="tx">%s</text>`, x, top, x, bottom, x, bottom+16, num(t))
		}
		for i, name := range c.YCategories {
			y := vy(float64(i))
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/><text x="%.1f" y="%.1f" class="ty">%s</text>`, left, y, right, y, left-6, y+4, html.EscapeString(shorten(name, 22)))
		}
	}
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="frame"/>`, left, top, right-left, bottom-top)

	if c.Diagonal {
		lo, hi := math.Max(xmin, ymin), math.Min(xmax, ymax)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="ref"/>`, vx(lo), vy(lo), vx(hi), vy(hi))
	}
	if c.ZeroY && !c.Horizontal && ymin < 0 && ymax > 0 {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="ref"/>`, left, vy(0), right, vy(0))
	}

	// Series.
	nbars := 0
	for _, s := range c.Series {
		if s.Kind == bars {
			nbars++
		}
	}
	bi := 0
	pos := make([]float64, len(c.Categories))
	neg := make([]float64, len(c.Categories))
	for _, s := range c.Series {
		switch s.Kind {
		case bars:
			width := 0.8
			if !c.Stacked {
				width /= float64(nbars)
			}
			for i, v := range s.Y {
				if i >= len(c.Categories) || math.IsNaN(v) {
					continue
				}
				center := float64(i)
				if !c.Stacked {
					center += -0.4 + width*(float64(bi)+0.5)
				}
				base := 0.0
				if c.Stacked {
					if v >= 0 {
						base, pos[i] = pos[i], pos[i]+v
					} else {
						base, neg[i] = neg[i], neg[i]+v
					}
				}
				tip := fmt.Sprintf("%s: %s", c.Categories[i], num(v))
				if s.Name != "" {
					tip = s.Name + " · " + tip
				}
				if c.Horizontal {
					x0, x1 := vx(math.Min(base, base+v)), vx(math.Max(base, base+v))
					y0, y1 := vy(center-width/2), vy(center+width/2)
					fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`, x0, y0, math.Max(x1-x0, 0.5), y1-y0, hex(s.Color), html.EscapeString(tip))
				} else {
					x0, x1 := vx(center-width/2), vx(center+width/2)
					y0, y1 := vy(math.Max(base, base+v)), vy(math.Min(base, base+v))
					fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`, x0, y0, x1-x0, math.Max(y1-y0, 0.5), hex(s.Color), html.EscapeString(tip))
				}
			}
			bi++
		case line:
			var pts []string
			for i := range s.Y {
				if math.IsNaN(s.X[i]) || math.IsNaN(s.Y[i]) {
					continue
				}
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", vx(s.X[i]), vy(s.Y[i])))
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
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s"%s points="%s"/>`, hex(s.Color), style, strings.Join(pts, " "))
			if !s.Thin && len(s.Y) <= 40 {
				for i := range s.Y {
					if math.IsNaN(s.X[i]) || math.IsNaN(s.Y[i]) {
						continue
					}
					fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s (%s, %s)</title></circle>`, vx(s.X[i]), vy(s.Y[i]), hex(s.Color), html.EscapeString(s.Name), num(s.X[i]), num(s.Y[i]))
				}
			}
		case points:
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
					fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s" fill-opacity="0.65"><title>(%s, %s)</title></circle>`, vx(s.X[i]), vy(s.Y[i]), r, hex(col), num(s.X[i]), num(s.Y[i]))
				} else {
					fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s" fill-opacity="0.65"/>`, vx(s.X[i]), vy(s.Y[i]), r, hex(col))
				}
			}
		}
	}

	// Axis labels, legend, colour bar. Horizontal bars put the value
	// (YLabel) along x.
	xl, yl := c.XLabel, c.YLabel
	if c.Horizontal {
		xl, yl = yl, xl
	}
	if xl != "" {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="al">%s</text>`, (left+right)/2, svgH-10, html.EscapeString(xl))
	}
	if yl != "" {
		fmt.Fprintf(&b, `<text x="14" y="%.1f" class="al" transform="rotate(-90 14 %.1f)">%s</text>`, (top+bottom)/2, (top+bottom)/2, html.EscapeString(yl))
	}
	ly, lx := top+6, right-150
	if c.Legend == bottomLeft {
		lx = left + 10
	}
	if c.Legend != topRight {
		named := 0
		for _, s := range c.Series {
			if s.Name != "" && !s.Thin {
				named++
			}
		}
		ly = bottom - 6 - 15*float64(named)
	}
	for _, s := range c.Series {
		if s.Name == "" || s.Thin {
			continue
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="10" height="10" fill="%s"/><text x="%.1f" y="%.1f" class="lg">%s</text>`, lx, ly, hex(s.Color), lx+14, ly+9, html.EscapeString(shorten(s.Name, 22)))
		ly += 15
	}
	if c.ColorLabel != "" {
		x := right + 14
		fmt.Fprintf(&b, `<defs><linearGradient id="heat-%s" x1="0" y1="1" x2="0" y2="0"><stop offset="0" stop-color="%s"/><stop offset="1" stop-color="%s"/></linearGradient></defs>`, c.File, hex(heatColor(0)), hex(heatColor(1)))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="10" height="%.1f" fill="url(#heat-%s)"/>`, x, top, bottom-top, c.File)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="lg">high</text><text x="%.1f" y="%.1f" class="lg">low</text>`, x-2, top-4, x-2, bottom+12)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
