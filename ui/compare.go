package ui

import (
	"net/http"
	"slices"
	"strings"

	"github.com/tabforge/tabforge/store"
)

// diffRow is one config key whose value differs between compared runs;
// Values[i] is run i's ("" when the run lacks the key).
type diffRow struct {
	Key    string
	Values []string
}

// metricRow is one metric of the compared runs' leaders, CV and test.
type metricRow struct {
	Name     string
	CV, Test []*float64
}

type compareData struct {
	Runs    []store.RunRow
	Diff    []diffRow
	Same    int // how many config keys are equal in every run
	Metrics []metricRow
	Boards  []boardChart
	Overlay overlay
}

// maxCompare bounds how many runs one comparison reads.
const maxCompare = 8

// compare serves /compare?runs=a,b[,c]: the config keys that differ and
// the leaders' metrics side by side.
func (s *Server) compare(w http.ResponseWriter, r *http.Request) {
	var ids []string
	for _, id := range strings.Split(r.URL.Query().Get("runs"), ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) < 2 || len(ids) > maxCompare {
		s.fail(w, r, badRequest("compare needs 2 to %d run ids: /compare?runs=a,b", maxCompare))
		return
	}
	var d compareData
	configs := make([]map[string]string, len(ids))
	leaders := make([]leader, len(ids))
	keys := map[string]bool{}
	runs := make([]*store.Run, len(ids))
	for i, id := range ids {
		run, err := s.st.GetRun(r.Context(), id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		runs[i] = run
		d.Runs = append(d.Runs, store.RowOf(run))
		configs[i] = flatConfig(run.Config)
		for k := range configs[i] {
			keys[k] = true
		}
		leaders[i] = leaderOf(run)
	}
	for _, k := range sortedKeys(keys) {
		row := diffRow{Key: k, Values: make([]string, len(ids))}
		for i, c := range configs {
			row.Values[i] = c[k]
		}
		if allEqual(row.Values) {
			d.Same++
			continue
		}
		d.Diff = append(d.Diff, row)
	}
	d.Metrics = metricRows(leaders)
	d.Boards, d.Overlay = boardCharts(runs), predictedOverlay(runs)
	s.render(w, r, "compare.html", "Compare runs", "runs", d)
}

func allEqual(v []string) bool {
	return !slices.ContainsFunc(v, func(s string) bool { return s != v[0] })
}

// leader is a run's leaderboard head: its CV and test metrics.
type leader struct{ CV, Test map[string]float64 }

func leaderOf(run *store.Run) leader {
	res, err := decodeResult(run)
	if err != nil || res == nil || len(res.Leaderboard) == 0 {
		return leader{}
	}
	return leader{CV: res.Leaderboard[0].CV, Test: res.Leaderboard[0].Test}
}

// metricRows lines up every metric any leader has.
func metricRows(ls []leader) []metricRow {
	names := map[string]bool{}
	for _, l := range ls {
		for k := range l.CV {
			names[k] = true
		}
		for k := range l.Test {
			names[k] = true
		}
	}
	var out []metricRow
	for _, n := range sortedKeys(names) {
		row := metricRow{Name: n, CV: make([]*float64, len(ls)), Test: make([]*float64, len(ls))}
		for i, l := range ls {
			if v, ok := l.CV[n]; ok {
				row.CV[i] = &v
			}
			if v, ok := l.Test[n]; ok {
				row.Test[i] = &v
			}
		}
		out = append(out, row)
	}
	return out
}
