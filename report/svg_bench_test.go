package report

import (
	"bytes"
	"testing"

	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// gonumSVG renders c with gonum/plot's SVG backend at the size of the
// inline charts, fonts not embedded (as the hand-written SVG relies on
// the page's fonts).
func (c *chart) gonumSVG() ([]byte, error) {
	p, err := c.plot()
	if err != nil {
		return nil, err
	}
	cv := vgsvg.NewWith(vgsvg.UseWH(pngW, pngH), vgsvg.EmbedFonts(false))
	p.Draw(draw.New(cv))
	var buf bytes.Buffer
	if _, err := cv.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// reportCharts returns the charts of a typical report: the full
// regression data and a binary classification run.
func reportCharts(tb testing.TB) []*chart {
	var out []*chart
	for _, d := range []*Data{fullData(tb), classData(2, 600)} {
		for _, s := range sections(d) {
			for _, c := range s.Charts {
				out = append(out, c.chart)
			}
		}
	}
	return out
}

// BenchmarkSVG compares the hand-written inline SVG with gonum/plot's
// vgsvg backend on the charts of a typical report; bytes/report is the
// inline SVG the page would carry.
//
//	go test -run '^$' -bench SVG -benchtime 20x ./report/
func BenchmarkSVG(b *testing.B) {
	charts := reportCharts(b)
	b.Run("handwritten", func(b *testing.B) {
		var size int
		for b.Loop() {
			size = 0
			for _, c := range charts {
				size += len(c.svg())
			}
		}
		b.ReportMetric(float64(size), "bytes/report")
		b.ReportMetric(float64(len(charts)), "charts")
	})
	b.Run("gonum-vgsvg", func(b *testing.B) {
		var size int
		for b.Loop() {
			size = 0
			for _, c := range charts {
				svg, err := c.gonumSVG()
				if err != nil {
					b.Fatal(err)
				}
				size += len(svg)
			}
		}
		b.ReportMetric(float64(size), "bytes/report")
		b.ReportMetric(float64(len(charts)), "charts")
	})
}
