package report

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/internal/atomicfile"
)

//go:embed report.html.tmpl
var pageTemplate string

// HTMLFile is the name of the page Write creates in its directory.
const HTMLFile = "report.html"

// DataFile is the name of the JSON copy of the Data Write creates.
const DataFile = "report.json"

// Files lists what Write wrote, relative to its directory.
type Files struct {
	HTML string
	JSON string
	PNG  []string
}

// Write renders d into dir (created if needed): report.html, a page with
// every chart inlined as SVG and no external reference, report.json (d as
// JSON) and one PNG file per chart. Each file is written atomically
// (temp file + rename).
func Write(ctx context.Context, dir string, d *Data) (*Files, error) {
	return WriteWith(ctx, dir, d, Options{})
}

// Options tune WriteWith.
type Options struct {
	// PNG, if set, memoises the PNG rendering of a chart, the slow part of
	// a report: it returns the image stored under key, or calls render and
	// stores its result. key names the chart's whole content, so equal
	// keys give equal images.
	PNG func(ctx context.Context, key string, render func() ([]byte, error)) ([]byte, error)
}

// WriteWith is Write with options.
func WriteWith(ctx context.Context, dir string, d *Data, o Options) (*Files, error) {
	if d == nil {
		return nil, fmt.Errorf("report: no data")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	secs := sections(d)
	files := &Files{HTML: HTMLFile, JSON: DataFile}
	var charts []*chart // those with a PNG, in page order
	for si := range secs {
		for ci := range secs[si].Charts {
			ch := &secs[si].Charts[ci]
			ch.SVG = template.HTML(ch.chart.svg())
			if ch.chart.File != "" {
				charts = append(charts, ch.chart)
				ch.PNG = ch.chart.File + ".png"
				files.PNG = append(files.PNG, ch.PNG)
			}
		}
	}
	imgs, err := renderPNGs(ctx, charts, o.PNG)
	if err != nil {
		return nil, err
	}
	for _, name := range files.PNG {
		img, ok := imgs[name]
		if !ok {
			return nil, fmt.Errorf("report: no image for %s", name)
		}
		if err := writeAtomic(filepath.Join(dir, name), img); err != nil {
			return nil, err
		}
	}
	page, err := render(d, secs)
	if err != nil {
		return nil, err
	}
	if err := writeAtomic(filepath.Join(dir, HTMLFile), page); err != nil {
		return nil, err
	}
	js, err := json.MarshalIndent(sanitized(d), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("report: encode data: %w", err)
	}
	if err := writeAtomic(filepath.Join(dir, DataFile), js); err != nil {
		return nil, err
	}
	return files, nil
}

// renderPNGs draws the charts side by side: they are independent.
func renderPNGs(ctx context.Context, charts []*chart, memo func(context.Context, string, func() ([]byte, error)) ([]byte, error)) (map[string][]byte, error) {
	imgs := make([][]byte, len(charts))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, c := range charts {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return fmt.Errorf("report: %w", err)
			}
			var img []byte
			var err error
			if memo != nil {
				img, err = memo(gctx, chartKey(c), c.png)
			} else {
				img, err = c.png()
			}
			imgs[i] = img
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(charts))
	for i, c := range charts {
		out[c.File+".png"] = imgs[i]
	}
	return out, nil
}

// chartKey names a chart's content: every field, as Go syntax (which
// prints floats exactly, NaN included), and the image size.
func chartKey(c *chart) string {
	h := sha256.New()
	fmt.Fprintf(h, "png/%v/%v/%#v", pngW, pngH, *c)
	return fmt.Sprintf("%x", h.Sum(nil))
}

// sanitized returns d ready for JSON, which cannot hold NaN or ±Inf:
// metrics and gates write them as null themselves; the error-analysis
// fields that may hold them are reset here.
func sanitized(d *Data) *Data {
	c := *d
	c.TopErrors = make([]eval.LargeError, len(d.TopErrors))
	for i, e := range d.TopErrors {
		if !finite(e.RelError) {
			e.RelError = -1
		}
		c.TopErrors[i] = e
	}
	c.ResidualBins = make([]FeatureResiduals, len(d.ResidualBins))
	for i, f := range d.ResidualBins {
		bins := make([]eval.ResidualGroup, len(f.Bins))
		for j, b := range f.Bins {
			if !finite(b.Lo) {
				b.Lo, b.Hi = 0, 0
			}
			bins[j] = b
		}
		f.Bins = bins
		c.ResidualBins[i] = f
	}
	c.SegmentResiduals = make([]eval.ResidualGroup, len(d.SegmentResiduals))
	for i, b := range d.SegmentResiduals {
		b.Lo, b.Hi = 0, 0
		c.SegmentResiduals[i] = b
	}
	c.SHAP = nil // large and derivable; the HTML has it
	return &c
}

func writeAtomic(path string, data []byte) error {
	if err := atomicfile.WriteFile(path, data); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// section is one block of the page.
type section struct {
	ID, Title string
	// Missing, when set, replaces the content: "not available: Missing".
	Missing string
	Notes   []string
	Charts  []renderedChart
	Tables  []table
	List    []string
	// Pre is preformatted text (the configuration), shown last.
	Pre string
}

type renderedChart struct {
	chart *chart
	SVG   template.HTML
	PNG   string
}

type table struct {
	Caption string
	Head    []string
	Rows    [][]cell
}

type cell struct {
	Text  string
	Class string // "num", "pass", "fail"
}

func txt(s string) cell   { return cell{Text: s} }
func numc(v float64) cell { return cell{Text: num(v), Class: "num"} }
func intc(v int) cell     { return cell{Text: fmt.Sprint(v), Class: "num"} }
func passc(ok bool) cell {
	if ok {
		return cell{Text: "pass", Class: "pass"}
	}
	return cell{Text: "FAIL", Class: "fail"}
}

func charts(cs ...*chart) []renderedChart {
	var out []renderedChart
	for _, c := range cs {
		if c != nil && !c.empty() {
			out = append(out, renderedChart{chart: c})
		}
	}
	return out
}

func nanValue() float64 { return math.NaN() }

func render(d *Data, secs []*section) ([]byte, error) {
	t, err := template.New("page").Parse(pageTemplate)
	if err != nil {
		return nil, fmt.Errorf("report: template: %w", err)
	}
	title := d.Title
	if title == "" {
		title = "tabforge run " + d.RunID
	}
	var buf bytes.Buffer
	err = t.Execute(&buf, map[string]any{"Title": title, "Data": d, "Sections": secs})
	if err != nil {
		return nil, fmt.Errorf("report: render: %w", err)
	}
	return buf.Bytes(), nil
}

// metricKeys returns the metric names present in the entries, the ranking
// metric first.
func metricKeys(first string, ms ...eval.Metrics) []string {
	seen := map[string]bool{}
	var keys []string
	for _, m := range ms {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	if seen[first] {
		keys = append([]string{first}, removeString(keys, first)...)
	}
	return keys
}

func removeString(s []string, x string) []string {
	var out []string
	for _, v := range s {
		if v != x {
			out = append(out, v)
		}
	}
	return out
}

func join(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " · ")
}
