package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// PNG size in points (1/72 inch) at 96 dpi: 800×450 pixels.
const (
	pngW = 600 * vg.Inch / 72
	pngH = 337.5 * vg.Inch / 72
	dpi  = 96
)

// png renders c with gonum/plot and returns the encoded image.
func (c *chart) png() ([]byte, error) {
	p, err := c.plot()
	if err != nil {
		return nil, err
	}
	cv := vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(pngW, pngH), vgimg.UseDPI(dpi))}
	p.Draw(draw.New(cv))
	var buf bytes.Buffer
	if _, err := cv.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("report: chart %q: encode png: %w", c.Title, err)
	}
	return buf.Bytes(), nil
}

// plot describes c as a gonum/plot figure, for any of its backends.
func (c *chart) plot() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = c.Title
	p.X.Label.Text = c.XLabel
	p.Y.Label.Text = c.YLabel
	p.Add(plotter.NewGrid())
	if c.Horizontal {
		p.X.Label.Text, p.Y.Label.Text = c.YLabel, c.XLabel
	}
	if err := c.plotSeries(p); err != nil {
		return nil, fmt.Errorf("report: chart %q: %w", c.Title, err)
	}
	xmin, xmax, ymin, ymax := c.bounds()
	if c.Diagonal {
		lo, hi := math.Max(xmin, ymin), math.Min(xmax, ymax)
		l, err := plotter.NewLine(plotter.XYs{{X: lo, Y: lo}, {X: hi, Y: hi}})
		if err == nil {
			l.Color, l.Dashes = color.RGBA{0x55, 0x55, 0x55, 0xff}, []vg.Length{vg.Points(4), vg.Points(3)}
			p.Add(l)
		}
	}
	if c.ZeroY && ymin < 0 && ymax > 0 && !c.isBar() {
		l, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: 0}, {X: xmax, Y: 0}})
		if err == nil {
			l.Color = color.RGBA{0x55, 0x55, 0x55, 0xff}
			p.Add(l)
		}
	}
	c.plotAxes(p, xmin, xmax, ymin, ymax)
	p.Legend.Top, p.Legend.Left = c.Legend == topRight, c.Legend == bottomLeft
	sansText(p)
	return p, nil
}

// chartFont is the PNG charts' typeface, Liberation Sans (built into
// gonum/plot's font cache), which the report's CSS names first for the
// SVG charts too, so that a chart reads the same in the page and as a
// PNG. gonum/plot's default, Liberation Serif, set the PNGs apart.
var chartFont = font.Font{Typeface: "Liberation", Variant: "Sans"}

// sansText sets every text of p in chartFont's typeface, keeping the
// sizes and weights gonum/plot gave them.
func sansText(p *plot.Plot) {
	fonts := []*font.Font{&p.Title.TextStyle.Font, &p.Legend.TextStyle.Font}
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		fonts = append(fonts, &a.Label.TextStyle.Font, &a.Tick.Label.Font)
	}
	for _, f := range fonts {
		f.Typeface, f.Variant = chartFont.Typeface, chartFont.Variant
	}
}

// plotBars is what the bar series drawn so far fix for the next: their
// width, count, index and the bars a stacked one goes on.
type plotBars struct {
	width vg.Length
	n, i  int
	below *plotter.BarChart
}

func (c *chart) plotSeries(p *plot.Plot) error {
	var pb plotBars
	for _, s := range c.Series {
		if s.Kind == bars {
			pb.n++
		}
	}
	pb.width = vg.Points(float64(pngW-80) / math.Max(1, float64(len(c.Categories))) * 0.8)
	if c.Horizontal {
		pb.width = vg.Points(float64(pngH-60) / math.Max(1, float64(len(c.Categories))) * 0.8)
	}
	if !c.Stacked && pb.n > 1 {
		pb.width /= vg.Length(pb.n)
	}
	for _, s := range c.Series {
		var err error
		switch s.Kind {
		case bars:
			err = c.plotBar(p, s, &pb)
		case line:
			err = plotLine(p, s)
		case points:
			err = plotPoints(p, s)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *chart) plotBar(p *plot.Plot, s series, pb *plotBars) error {
	vals := make(plotter.Values, len(c.Categories))
	for i := range vals {
		if i < len(s.Y) && !math.IsNaN(s.Y[i]) {
			vals[i] = s.Y[i]
		}
	}
	bc, err := plotter.NewBarChart(vals, pb.width)
	if err != nil {
		return err
	}
	bc.Color, bc.LineStyle.Width = s.Color, 0
	bc.Horizontal = c.Horizontal
	if c.Stacked {
		if pb.below != nil {
			bc.StackOn(pb.below)
		}
		pb.below = bc
	} else if pb.n > 1 {
		bc.Offset = pb.width * vg.Length(float64(pb.i)-float64(pb.n-1)/2)
	}
	pb.i++
	p.Add(bc)
	if s.Name != "" {
		p.Legend.Add(s.Name, bc)
	}
	return nil
}

func plotLine(p *plot.Plot, s series) error {
	xy := xys(s.X, s.Y)
	if len(xy) == 0 {
		return nil
	}
	l, err := plotter.NewLine(xy)
	if err != nil {
		return err
	}
	l.Color, l.Width = s.Color, vg.Points(2)
	switch {
	case s.Thin:
		l.Width = vg.Points(0.6)
		l.Color = color.NRGBA{s.Color.R, s.Color.G, s.Color.B, 0x50}
	case s.Dashed:
		l.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
	}
	p.Add(l)
	if s.Name != "" && !s.Thin {
		p.Legend.Add(s.Name, l)
	}
	return nil
}

func plotPoints(p *plot.Plot, s series) error {
	xy := xys(s.X, s.Y)
	if len(xy) == 0 {
		return nil
	}
	sc, err := plotter.NewScatter(xy)
	if err != nil {
		return err
	}
	radius := vg.Points(2)
	if len(xy) > 2000 {
		radius = vg.Points(1.2)
	}
	col, heat := s.Color, s.Heat
	kept := keptIndex(s.X, s.Y)
	sc.GlyphStyleFunc = func(i int) draw.GlyphStyle {
		cc := col
		if heat != nil {
			cc = heatColor(heat[kept[i]])
		}
		// color.RGBA is premultiplied: translucency needs NRGBA.
		nc := color.NRGBA{cc.R, cc.G, cc.B, 0xb0}
		return draw.GlyphStyle{Color: nc, Radius: radius, Shape: draw.CircleGlyph{}}
	}
	p.Add(sc)
	if s.Name != "" {
		p.Legend.Add(s.Name, sc)
	}
	return nil
}

// plotAxes sets the axes' ranges and category labels.
func (c *chart) plotAxes(p *plot.Plot, xmin, xmax, ymin, ymax float64) {
	switch {
	case c.isBar() && c.Horizontal:
		p.NominalY(c.Categories...)
		p.X.Min, p.X.Max = math.Min(0, ymin), ymax
	case c.isBar():
		every := (len(c.Categories) + 15) / 16
		labels := make([]string, len(c.Categories))
		for i, name := range c.Categories {
			if i%every == 0 {
				labels[i] = shorten(name, 18)
			}
		}
		p.NominalX(labels...)
		// Head room for the legend above the tallest bar.
		p.Y.Min, p.Y.Max = math.Min(0, ymin), ymax+0.2*(ymax-ymin)
		if len(c.Categories) > 6 {
			p.X.Tick.Label.Rotation = math.Pi / 5
			p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
		}
	default:
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = xmin, xmax, ymin, ymax
		if c.XDates {
			p.X.Tick.Marker = plot.TimeTicks{Format: dateLayout}
		}
		if c.YCategories != nil {
			p.NominalY(c.YCategories...)
			p.Y.Min, p.Y.Max = ymin, ymax
		}
	}
}

// xys returns the finite (x, y) pairs.
func xys(x, y []float64) plotter.XYs {
	var out plotter.XYs
	for _, i := range keptIndex(x, y) {
		out = append(out, plotter.XY{X: x[i], Y: y[i]})
	}
	return out
}

// keptIndex lists the indices whose x and y are finite.
func keptIndex(x, y []float64) []int {
	var out []int
	for i := range y {
		if finite(x[i]) && finite(y[i]) {
			out = append(out, i)
		}
	}
	return out
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
