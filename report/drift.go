package report

import (
	"cmp"
	"fmt"
	"html/template"
	"slices"

	"github.com/tabforge/tabforge/drift"
)

// maxDriftCharts caps the distribution charts of a drift page: the
// target, the prediction and the most drifted features come first.
const maxDriftCharts = 60

// WriteDrift writes r as one self-contained HTML page at path (atomically,
// every chart inlined as SVG): the verdict, a table of every column's
// test, and each column's reference and current distributions side by
// side. title heads the page; "" means "Data drift".
func WriteDrift(path string, r *drift.Report, title string) error {
	if r == nil {
		return fmt.Errorf("report: no drift report")
	}
	if title == "" {
		title = "Data drift"
	}
	secs := []*section{driftSummary(r), driftDistributions(r)}
	for _, s := range secs {
		for i := range s.Charts {
			s.Charts[i].SVG = template.HTML(s.Charts[i].chart.svg())
		}
	}
	d := &Data{Title: title}
	if r.Target != nil {
		d.Target = r.Target.Name
	}
	page, err := render(d, secs)
	if err != nil {
		return err
	}
	return writeAtomic(path, page)
}

// roleColumn is a column of a drift report with its role: target,
// prediction or feature.
type roleColumn struct {
	Role string
	drift.Column
}

// driftColumns returns the target, the prediction and the features, in
// that order.
func driftColumns(r *drift.Report) []roleColumn {
	var cols []roleColumn
	if r.Target != nil {
		cols = append(cols, roleColumn{"target", *r.Target})
	}
	if r.Prediction != nil {
		cols = append(cols, roleColumn{"prediction", *r.Prediction})
	}
	for _, c := range r.Columns {
		cols = append(cols, roleColumn{"feature", c})
	}
	return cols
}

func driftSummary(r *drift.Report) *section {
	s := &section{ID: "drift", Title: "Dataset drift"}
	verdict := "no dataset drift"
	if r.DatasetDrift {
		verdict = "DATASET DRIFT"
	}
	s.Notes = []string{
		fmt.Sprintf("%s: %d of %d compared features drifted (%.0f%%; the dataset drifts from %.0f%%).",
			verdict, r.Drifted, r.Compared, 100*r.DriftedShare, 100*r.ShareThreshold),
		fmt.Sprintf("Reference %d rows, current %d rows. Up to 1,000 reference values a column is tested (KS, chi-squared: drift when p < threshold); beyond, distances are compared with their threshold (normed Wasserstein, Jensen–Shannon). PSI bands: < 0.1 stable, < 0.25 moderate, else significant.",
			r.ReferenceRows, r.CurrentRows),
	}
	t := table{Head: []string{"column", "role", "kind", "method", "statistic", "p-value", "threshold", "drift", "PSI", "PSI band", "missing ref", "missing cur"}}
	for _, c := range driftColumns(r) {
		row := []cell{txt(c.Name), txt(c.Role), txt(c.Kind.String()), txt(string(c.Method))}
		if c.Method == drift.Skipped {
			row = append(row, txt(c.Reason), txt(""), txt(""), txt("–"), txt(""), txt(""))
		} else {
			p := txt("")
			if c.PValue != nil {
				p = numc(*c.PValue)
			}
			d := cell{Text: "no", Class: "pass"}
			if c.Drifted {
				d = cell{Text: "DRIFT", Class: "fail"}
			}
			stat := numc(c.Statistic)
			if c.Reason != "" {
				stat = txt(c.Reason) // no statistic: say why
			}
			row = append(row, stat, p, numc(c.Threshold), d, numc(c.PSI), txt(c.PSIBand))
		}
		row = append(row, pct(c.ReferenceMissing), pct(c.CurrentMissing))
		t.Rows = append(t.Rows, row)
	}
	s.Tables = []table{t}
	if len(r.Extra) > 0 {
		s.List = []string{fmt.Sprintf("Columns only in the current data, not compared: %v", r.Extra)}
	}
	return s
}

func pct(v float64) cell { return cell{Text: fmt.Sprintf("%.1f%%", 100*v), Class: "num"} }

// driftDistributions draws each compared column's bins, reference and
// current side by side: the target and prediction first, then drifted
// features before the others, each group by PSI, largest first.
func driftDistributions(r *drift.Report) *section {
	s := &section{ID: "drift-distributions", Title: "Distributions: reference vs current"}
	all := driftColumns(r)
	lead := len(all) - len(r.Columns)
	feats := slices.Clone(all[lead:])
	slices.SortStableFunc(feats, func(a, b roleColumn) int {
		if a.Drifted != b.Drifted {
			if a.Drifted {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.PSI, a.PSI)
	})
	var cs []*chart
	for _, c := range append(all[:lead:lead], feats...) {
		if c.Method == drift.Skipped || len(c.Bins) == 0 {
			continue
		}
		if len(cs) == maxDriftCharts {
			s.Notes = append(s.Notes, fmt.Sprintf("The first %d columns are drawn; the table above lists all.", maxDriftCharts))
			break
		}
		cs = append(cs, driftChart(c.Column))
	}
	if len(cs) == 0 {
		s.Missing = "no column was compared"
		return s
	}
	s.Charts = charts(cs...)
	return s
}

func driftChart(c drift.Column) *chart {
	cats := make([]string, len(c.Bins))
	ref, cur := make([]float64, len(c.Bins)), make([]float64, len(c.Bins))
	for i, b := range c.Bins {
		cats[i], ref[i], cur[i] = b.Label, b.Reference, b.Current
	}
	verdict := "stable"
	if c.Drifted {
		verdict = "DRIFT"
	}
	return &chart{
		Title:      fmt.Sprintf("%s: %s %s = %s, PSI %s", c.Name, verdict, c.Method, num(c.Statistic), num(c.PSI)),
		YLabel:     "share of rows",
		Categories: cats,
		Series: []series{
			{Name: "reference", Kind: bars, Y: ref, Color: colorAt(0)},
			{Name: "current", Kind: bars, Y: cur, Color: colorAt(1)},
		},
	}
}
