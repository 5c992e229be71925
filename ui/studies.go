package ui

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/tune"
)

// trialsPerPage bounds the trial table; the chart shows every trial.
const trialsPerPage = 100

type trialRow struct {
	Number int
	State  tune.State
	Value  float64
	Best   float64 // best complete value so far, NaN before the first
	Params []string
}

type studyData struct {
	Study      pipeline.StudySummary
	Chart      chart
	Importance []importanceRow
	Slices     []slicePlot
	Parallel   *parcoords
	Params     []string
	Trials     []trialRow
	First      int
	Prev       string
	Next       string
	Running    int
}

// studiesPerPage bounds the studies list: every tuned run adds a study
// per model family, so a store gathers thousands (12,000 made a 1.5 MB
// page when the list was not paged).
const studiesPerPage = 100

type studiesData struct {
	Studies []store.Study
	Text    string // the name filter, ?q=
	Total   int    // studies matching the filter
	First   int    // 1-based index of Studies[0]
	Prev    string
	Next    string
}

// studies serves /studies?q=TEXT&offset=N: one page of the studies whose
// name contains TEXT, by name.
func (s *Server) studies(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	offset, err := countParam(v, "offset")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	all, err := s.st.ListStudies(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := studiesData{Text: v.Get("q")}
	if d.Text != "" {
		all = slices.DeleteFunc(all, func(st store.Study) bool { return !strings.Contains(st.Name, d.Text) })
	}
	d.Total = len(all)
	offset = min(offset, len(all))
	end := min(offset+studiesPerPage, len(all))
	d.Studies, d.First = all[offset:end], offset+1
	if offset > 0 {
		d.Prev = withQuery("studies", v, "offset", strconv.Itoa(max(0, offset-studiesPerPage)))
	}
	if end < len(all) {
		d.Next = withQuery("studies", v, "offset", strconv.Itoa(end))
	}
	s.render(w, r, "studies.html", "Studies", "studies", d)
}

// study serves /studies/{id}: the best-so-far chart over every trial and
// one page of the trial table.
func (s *Server) study(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.fail(w, r, badRequest("study id %q is not a number", r.PathValue("id")))
		return
	}
	all, err := s.st.ListStudies(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var st *store.Study
	for i := range all {
		if all[i].ID == id {
			st = &all[i]
		}
	}
	if st == nil {
		s.fail(w, r, fmt.Errorf("study %d: %w", id, store.ErrNotFound))
		return
	}
	trials, err := s.st.Trials(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	offset = max(0, min(offset, len(trials)))
	d := studyData{Study: pipeline.SummarizeStudy(*st, trials), First: offset + 1}
	best := bestSoFar(trials, st.Direction)
	d.Chart = trialChart(trials, best, st.Direction)
	names := map[string]bool{}
	for _, t := range trials {
		for k := range t.Params {
			names[k] = true
		}
		if t.State == tune.Running {
			d.Running++
		}
	}
	d.Params = sortedKeys(names)
	sc, ax := tune.Scored(trials), axes(trials, d.Params)
	d.Importance, d.Slices, d.Parallel = importance(sc, ax), slicePlots(sc, ax), parallel(sc, ax, st.Direction)
	for i := offset; i < min(offset+trialsPerPage, len(trials)); i++ {
		t := &trials[i]
		row := trialRow{Number: t.Number, State: t.State, Value: t.Value, Best: best[i]}
		for _, p := range d.Params {
			v, ok := t.Param(p)
			if !ok {
				row.Params = append(row.Params, "")
				continue
			}
			if f, isF := v.(float64); isF {
				v = strconv.FormatFloat(f, 'g', 5, 64)
			}
			row.Params = append(row.Params, fmt.Sprint(v))
		}
		d.Trials = append(d.Trials, row)
	}
	v := r.URL.Query()
	if offset > 0 {
		d.Prev = withQuery("studies/"+r.PathValue("id"), v, "offset", strconv.Itoa(max(0, offset-trialsPerPage)))
	}
	if offset+trialsPerPage < len(trials) {
		d.Next = withQuery("studies/"+r.PathValue("id"), v, "offset", strconv.Itoa(offset+trialsPerPage))
	}
	s.render(w, r, "study.html", "Study "+st.Name, "studies", d)
}

// bestSoFar is, for each trial in order, the best complete value up to
// and including it in direction dir (NaN before the first).
func bestSoFar(trials []tune.FrozenTrial, dir tune.Direction) []float64 {
	out := make([]float64, len(trials))
	best := math.NaN()
	for i, t := range trials {
		if t.State == tune.Complete && !math.IsNaN(t.Value) {
			if math.IsNaN(best) || (dir == tune.Maximize && t.Value > best) || (dir != tune.Maximize && t.Value < best) {
				best = t.Value
			}
		}
		out[i] = best
	}
	return out
}

// chart is an inline SVG of trial values (one path of dots, however
// many trials) and the best-so-far step line, in a 800×300 view box.
type chart struct {
	Dots, Best    string // SVG path data
	YMin, YMax    string // axis labels
	XMax          int
	Empty         bool
	Width, Height int
	PlotL, PlotR  int
	PlotT, PlotB  int
	Label         string
}

func trialChart(trials []tune.FrozenTrial, best []float64, dir tune.Direction) chart {
	c := chart{Width: 800, Height: 300, PlotL: 60, PlotR: 790, PlotT: 10, PlotB: 270, XMax: len(trials) - 1,
		Label: "objective (" + string(dir) + ")"}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, t := range trials {
		if t.State == tune.Complete && !math.IsNaN(t.Value) && !math.IsInf(t.Value, 0) {
			lo, hi = math.Min(lo, t.Value), math.Max(hi, t.Value)
		}
	}
	if math.IsInf(lo, 1) {
		c.Empty = true
		return c
	}
	if hi == lo {
		lo, hi = lo-1, hi+1
	}
	c.YMin, c.YMax = strconv.FormatFloat(lo, 'g', 4, 64), strconv.FormatFloat(hi, 'g', 4, 64)
	n := max(1, len(trials)-1)
	x := func(i int) float64 { return float64(c.PlotL) + float64(i)/float64(n)*float64(c.PlotR-c.PlotL) }
	// The axis spans the finite values; a best so far of ±Inf (a
	// diverged trial's score) is drawn at the edge it lies beyond.
	y := func(v float64) float64 {
		v = min(max(v, lo), hi)
		return float64(c.PlotB) - (v-lo)/(hi-lo)*float64(c.PlotB-c.PlotT)
	}
	var dots, line strings.Builder
	prev := math.NaN()
	for i, t := range trials {
		if t.State == tune.Complete && !math.IsNaN(t.Value) && !math.IsInf(t.Value, 0) {
			fmt.Fprintf(&dots, "M%.1f %.1fh0", x(i), y(t.Value))
		}
		b := best[i]
		switch {
		case math.IsNaN(b):
		case math.IsNaN(prev):
			fmt.Fprintf(&line, "M%.1f %.1f", x(i), y(b))
		case b != prev:
			fmt.Fprintf(&line, "H%.1fV%.1f", x(i), y(b))
		}
		if !math.IsNaN(b) {
			prev = b
		}
	}
	if !math.IsNaN(prev) {
		fmt.Fprintf(&line, "H%.1f", x(len(trials)-1))
	}
	c.Dots, c.Best = dots.String(), line.String()
	return c
}
