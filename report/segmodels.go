package report

import (
	"fmt"

	"github.com/tabforge/tabforge/eval"
)

// segmentModelsTable compares each segment's test metrics under the
// global model and under the model the saved artifact routes it to, and
// notes say which model the page's test-row sections describe: without
// them the leaderboard's test figures (the global model's) contradict
// the confusion matrix, ROC and residuals (the routed model's).
func segmentModelsTable(d *Data) (table, []string) {
	sm := d.SegmentModels
	metric := d.Metric
	t := table{Caption: fmt.Sprintf("Per-segment models by %s (%s's family and parameters)", sm.Column, sm.Model),
		Head: []string{"segment", "train rows", "test rows", "model", "global " + metric, "routed " + metric, "note"}}
	for _, g := range sm.Segments {
		which := "own"
		if !g.OwnModel {
			which = "global"
		}
		t.Rows = append(t.Rows, []cell{txt(g.Segment), intc(g.TrainRows), intc(g.TestRows), txt(which),
			metricCell(g.Global, metric), metricCell(g.Routed, metric), txt(g.Note)})
	}
	t.Rows = append(t.Rows, []cell{txt("all test rows"), txt(""), txt(""), txt(""), metricCell(sm.Global, metric), metricCell(sm.Routed, metric), txt("")})
	notes := []string{fmt.Sprintf("The saved model routes each value of %s to its own model (%d segments); segments with fewer than %d training rows use the global model %s (%d). "+
		"The leaderboard's test figures are the global model's; the test-row sections (confusion matrix, ROC, calibration, residuals, error analysis) describe the routed model.",
		sm.Column, sm.Trained, sm.MinRows, d.Best, sm.Fallback)}
	g, gok := sm.Global[metric]
	r, rok := sm.Routed[metric]
	if gok && rok && finite(g) && finite(r) && g != r {
		if better := r > g; better != eval.Higher(metric) {
			notes = append(notes, fmt.Sprintf("On the test rows the routed model is worse than the global one (%s %s against %s): the segments may be too small for models of their own; consider training without segment_by, or a larger min_segment_rows.",
				metric, num(r), num(g)))
		}
	}
	return t, notes
}

// metricCell is metric k of m as the page shows it (metricHead): MAPE,
// a fraction in the metrics, in percent beside within20's percent.
func metricCell(m eval.Metrics, k string) cell {
	v, ok := m[k]
	switch {
	case !ok:
		return txt("–")
	case k == eval.KeyMAPE:
		return numc(100 * v)
	}
	return numc(v)
}

// metricHead is the column name of metric k: "mape %" for MAPE, which
// metricCell shows in percent.
func metricHead(k string) string {
	if k == eval.KeyMAPE {
		return k + " %"
	}
	return k
}
