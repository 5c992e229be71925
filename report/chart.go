package report

import (
	"fmt"
	"image/color"
	"math"
	"strconv"
	"time"
)

// A chart is one figure, described once and drawn twice: as inline SVG in
// the HTML page and as a PNG file (svg.go, png.go).
type chart struct {
	// File is the PNG file name without extension; "" means no PNG.
	File   string
	Title  string
	XLabel string
	YLabel string
	Series []series
	// Categories label the bar positions 0, 1, ... of a bar chart: along
	// x, or along y when Horizontal; in a line chart (SVG only), the x
	// positions 0, 1, .... For a point chart, YCategories label integer y
	// positions (beeswarm rows).
	Categories  []string
	YCategories []string
	Horizontal  bool
	// Stacked stacks bar series instead of grouping them side by side.
	Stacked bool
	// Diagonal draws y = x (predicted vs actual); ZeroY draws y = 0.
	Diagonal bool
	ZeroY    bool
	// Legend places the legend; the zero value is the top right.
	Legend legendPlace
	// XDates labels a numeric x axis of Unix seconds with dates.
	XDates bool
	// ColorLabel names what per-point colours encode (beeswarm: the
	// feature value, low blue to high red).
	ColorLabel string
}

// legendPlace is a chart corner for the legend, to keep it clear of
// curves that hug the top (ROC) or the top right (precision–recall).
type legendPlace int

const (
	topRight legendPlace = iota
	bottomRight
	bottomLeft
)

type seriesKind int

const (
	points seriesKind = iota
	line
	bars
)

// series is one set of values in a chart. Bars use Y only, one value per
// category.
type series struct {
	Name  string
	Kind  seriesKind
	X, Y  []float64
	Color color.RGBA
	// Heat colours each point by a value in [0, 1] (NaN: grey) instead of
	// Color.
	Heat []float64
	// Dashed draws a line dashed; Thin draws it thin and faint (ICE).
	Dashed, Thin bool
}

// palette holds distinguishable colours (Tableau 10).
var palette = [...]color.RGBA{
	{0x4e, 0x79, 0xa7, 0xff}, {0xf2, 0x8e, 0x2b, 0xff}, {0xe1, 0x57, 0x59, 0xff}, {0x76, 0xb7, 0xb2, 0xff},
	{0x59, 0xa1, 0x4f, 0xff}, {0xed, 0xc9, 0x48, 0xff}, {0xb0, 0x7a, 0xa1, 0xff}, {0xff, 0x9d, 0xa7, 0xff},
	{0x9c, 0x75, 0x5f, 0xff}, {0xba, 0xb0, 0xac, 0xff},
}

func colorAt(i int) color.RGBA { return palette[i%len(palette)] }

// heatColor maps v in [0, 1] from blue through purple to red, as SHAP's
// beeswarm does; NaN is grey.
func heatColor(v float64) color.RGBA {
	if math.IsNaN(v) {
		return color.RGBA{0xaa, 0xaa, 0xaa, 0xff}
	}
	v = math.Max(0, math.Min(1, v))
	lerp := func(a, b uint8) uint8 { return uint8(float64(a) + v*(float64(b)-float64(a))) }
	return color.RGBA{lerp(0x00, 0xff), lerp(0x8b, 0x00), lerp(0xfb, 0x52), 0xff}
}

// bounds returns the data range of a chart's axes, widened so that
// nothing sits on the frame, and including 0 for bars.
func (c *chart) bounds() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	grow := func(lo, hi *float64, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		*lo, *hi = math.Min(*lo, v), math.Max(*hi, v)
	}
	if c.isBar() {
		n := len(c.Categories)
		xmin, xmax = -0.5, float64(n)-0.5
		stack := make([]float64, n)
		neg := make([]float64, n)
		ymin, ymax = 0, 0
		for _, s := range c.Series {
			for i, v := range s.Y {
				if i >= n {
					break
				}
				if c.Stacked {
					if v >= 0 {
						stack[i] += v
						grow(&ymin, &ymax, stack[i])
					} else {
						neg[i] += v
						grow(&ymin, &ymax, neg[i])
					}
				} else {
					grow(&ymin, &ymax, v)
				}
			}
		}
		if ymax == ymin {
			ymax = ymin + 1
		}
		r := ymax - ymin
		ymax += 0.05 * r
		if ymin < 0 {
			// Negative bars (mean residuals) keep off the frame too.
			ymin -= 0.05 * r
		}
		return xmin, xmax, ymin, ymax
	}
	for _, s := range c.Series {
		for i := range s.Y {
			grow(&xmin, &xmax, s.X[i])
			grow(&ymin, &ymax, s.Y[i])
		}
	}
	if c.Diagonal {
		lo, hi := math.Min(xmin, ymin), math.Max(xmax, ymax)
		xmin, ymin, xmax, ymax = lo, lo, hi, hi
	}
	if c.ZeroY {
		grow(&ymin, &ymax, 0)
	}
	if math.IsInf(xmin, 1) {
		xmin, xmax = 0, 1
	}
	if math.IsInf(ymin, 1) {
		ymin, ymax = 0, 1
	}
	pad := func(lo, hi float64) (float64, float64) {
		// Values a few ULPs apart (predictions of 2.25 and
		// 2.2499999999999996) are one value: a range float64 can hardly
		// resolve has no round ticks to draw.
		if hi-lo <= 1e-9*math.Max(math.Abs(lo), math.Abs(hi)) {
			d := math.Max(1, math.Abs(lo)*0.1)
			return lo - d, hi + d
		}
		d := 0.04 * (hi - lo)
		return lo - d, hi + d
	}
	xmin, xmax = pad(xmin, xmax)
	ymin, ymax = pad(ymin, ymax)
	if c.YCategories != nil {
		ymin, ymax = -0.6, float64(len(c.YCategories))-0.4
	}
	return xmin, xmax, ymin, ymax
}

// named counts the series the legend lists.
func (c *chart) named() int {
	n := 0
	for _, s := range c.Series {
		if s.Name != "" && !s.Thin {
			n++
		}
	}
	return n
}

func (c *chart) isBar() bool {
	for _, s := range c.Series {
		if s.Kind == bars {
			return true
		}
	}
	return false
}

// empty reports whether the chart has nothing to draw.
func (c *chart) empty() bool {
	for _, s := range c.Series {
		if len(s.Y) > 0 {
			return false
		}
	}
	return true
}

// niceStep is the smallest of 1, 2, 2.5 and 5 times a power of ten that
// is at least raw (> 0).
func niceStep(raw float64) float64 {
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	return step
}

// ticks returns about n round tick values covering [lo, hi].
func ticks(lo, hi float64, n int) []float64 {
	if !(hi > lo) || n < 1 {
		return []float64{lo}
	}
	step := niceStep((hi - lo) / float64(n))
	// Counted, not stepped: a step below lo's resolution would never
	// move v, and a count past a few times n means the range is one the
	// step cannot cut (bounds pads such ranges; this is the last guard).
	start := math.Ceil(lo/step) * step
	count := int(math.Floor((hi-start)/step+1e-9)) + 1
	if !(count >= 1 && count <= 4*n+1) || start+step == start {
		return []float64{lo}
	}
	out := make([]float64, 0, count)
	for i := range count {
		v := start + float64(i)*step
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		out = append(out, v)
	}
	return out
}

// num formats a number for labels and tables: 4 significant digits,
// thousands as "12.3k" when large.
func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case math.IsInf(v, 1):
		return "∞"
	case math.IsInf(v, -1):
		return "-∞"
	case math.Abs(v) >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 4, 64) + "M"
	case math.Abs(v) >= 1e4:
		return strconv.FormatFloat(v/1e3, 'g', 4, 64) + "k"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// maxScatterPoints caps the points a scatter of test rows draws: every
// point is an SVG element of the page (and a PNG marker), so a run with
// 200,000 test rows wrote two 15 MB charts into report.html, and one with
// a million rows a page no browser opens. More points than this only
// overplot each other at the chart's 640×360 pixels.
const maxScatterPoints = 5000

// everyKth returns at most n of the points (x[i], y[i]), evenly spaced in
// their order and always including the first and last, and whether it
// left any out. x and y are not modified.
func everyKth(x, y []float64, n int) ([]float64, []float64, bool) {
	if len(y) <= n {
		return x, y, false
	}
	sx, sy := make([]float64, n), make([]float64, n)
	for i := range n {
		j := i * (len(y) - 1) / (n - 1)
		sx[i], sy[i] = x[j], y[j]
	}
	return sx, sy, true
}

// drawnNote says that a scatter drew only drawn of n test rows, and what
// still used all of them.
func drawnNote(drawn, n int, all string) string {
	return fmt.Sprintf("The scatter draws %d of the %d test rows, evenly spaced in test order; %s.", drawn, n, all)
}

// xTick labels an x tick at t: a number, or with XDates the date (UTC)
// of t Unix seconds.
func (c *chart) xTick(t float64) string {
	if c.XDates {
		return time.Unix(int64(math.Round(t)), 0).UTC().Format(dateLayout)
	}
	return num(t)
}

const dateLayout = "2006-01-02"
