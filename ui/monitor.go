package ui

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/tabforge/tabforge/continuous"
	"github.com/tabforge/tabforge/drift"
	"github.com/tabforge/tabforge/monitor"
)

// monitorLimit bounds the entries of each kind the page shows.
const monitorLimit = 50

type driftRow struct {
	monitor.Entry
	Report  drift.Report
	Columns []string // the drifted columns, most drifted first (by PSI), up to 8
	More    int      // drifted columns not listed
}

type backtestRow struct {
	monitor.Entry
	Result continuous.BacktestResult
}

type monitorData struct {
	Drift     []driftRow
	Backtests []backtestRow
}

// monitorPage serves /monitor: the drift reports and backtests recorded
// in the store (tabforge drift --record, tabforge backtest --record),
// newest first, or how to record them when there are none.
func (s *Server) monitorPage(w http.ResponseWriter, r *http.Request) {
	var d monitorData
	drifts, err := monitor.List(r.Context(), s.st, monitor.DriftKind, monitorLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, e := range drifts {
		row := driftRow{Entry: e}
		if json.Unmarshal(e.Report, &row.Report) != nil {
			continue
		}
		var cols []drift.Column
		for _, c := range row.Report.Columns {
			if c.Drifted {
				cols = append(cols, c)
			}
		}
		slices.SortStableFunc(cols, func(a, b drift.Column) int { return -cmpFloat(a.PSI, b.PSI) })
		for i, c := range cols {
			if i == 8 {
				row.More = len(cols) - 8
				break
			}
			row.Columns = append(row.Columns, c.Name)
		}
		d.Drift = append(d.Drift, row)
	}
	backtests, err := monitor.List(r.Context(), s.st, monitor.BacktestKind, monitorLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, e := range backtests {
		row := backtestRow{Entry: e}
		if json.Unmarshal(e.Report, &row.Result) == nil {
			d.Backtests = append(d.Backtests, row)
		}
	}
	s.render(w, r, "monitor.html", "Monitor", "monitor", d)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
