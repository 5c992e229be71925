package pipeline

import (
	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/report"
)

// targetBins is the number of bars of a regression target's histogram in
// the report's data overview.
const targetBins = 30

// describeRun adds to d what the report shows of the run's inputs: the
// effective configuration (passwords in URLs redacted) and an overview of
// the prepared data (the rows with a target, the feature columns and the
// target). A configuration that does not encode is left out with a
// warning.
func describeRun(d *report.Data, cfg *config.Config, p *prepared) {
	if y, err := cfg.Redacted().YAML(); err != nil {
		d.Warnings = append(d.Warnings, "report: configuration: "+err.Error())
	} else {
		d.Config = string(y)
	}
	o := &report.Overview{Rows: len(p.y)}
	for _, s := range p.x.Describe() {
		col := report.ColumnOverview{Name: s.Name, Kind: s.Kind.String(), Missing: s.Missing}
		if s.Kind == frame.Categorical {
			col.Distinct = s.Distinct
		}
		o.Columns = append(o.Columns, col)
	}
	o.Columns = append(o.Columns, report.ColumnOverview{Name: cfg.Target, Kind: targetKind(p), Target: true, Distinct: len(p.classes)})
	o.Target = report.TargetBins(p.y, p.classes, targetBins)
	d.Overview = o
}

func targetKind(p *prepared) string {
	if p.task.IsClassification() {
		return frame.Categorical.String()
	}
	return frame.Numeric.String()
}
