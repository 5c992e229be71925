package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
)

// column is a sortable column of the runs list.
type column struct {
	Key, Label string
	Link       string // the URL sorting by it (flipping the order if it is the current key)
	Mark       string // ▲ or ▼ on the current sort key
	Sort       string // aria-sort of the current sort key: ascending or descending
}

type runsData struct {
	Query    store.RunQuery
	Page     *store.RunPage
	Status   map[string]store.Status // shown status of running rows (interrupted if the lease expired)
	Columns  []column
	Statuses []store.Status
	First    int // 1-based index of the page's first row
	Prev     string
	Next     string
}

// countParam reads the query parameter name as a non-negative integer,
// 0 when absent; anything else is a bad request.
func countParam(v url.Values, name string) (int, error) {
	s := v.Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, badRequest("%s=%q is not a non-negative integer", name, s)
	}
	return n, nil
}

// parseRunQuery reads the runs list's state from the query string.
func parseRunQuery(v url.Values) (store.RunQuery, error) {
	q := store.RunQuery{Dataset: v.Get("dataset"), Status: store.Status(v.Get("status")), Best: v.Get("model"),
		Text: v.Get("q"), Sort: v.Get("sort"), Asc: v.Get("order") == "asc"}
	var err error
	if q.Offset, err = countParam(v, "offset"); err != nil {
		return q, err
	}
	if q.Limit, err = countParam(v, "limit"); err != nil {
		return q, err
	}
	q.Limit = min(q.Limit, 500)
	if err := q.Check(); err != nil {
		return q, badRequest("%v", err)
	}
	return q, nil
}

// runs serves /: one page of runs, filtered and sorted by the store.
func (s *Server) runs(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q, err := parseRunQuery(v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := store.QueryRuns(r.Context(), s.st, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := runsData{Query: q, Page: p, Status: map[string]store.Status{}, First: q.Offset + 1,
		Statuses: []store.Status{store.Running, store.Succeeded, store.Failed, store.Interrupted}}
	now := time.Now()
	for _, row := range p.Rows {
		if row.Status == store.Running {
			st, err := pipeline.RunStatus(r.Context(), s.st, &store.Run{ID: row.ID, Status: row.Status}, now)
			if err == nil {
				d.Status[row.ID] = st
			}
		}
	}
	cur := q.Sort
	if cur == "" {
		cur = "created"
	}
	for _, c := range [][2]string{{"created", "Created"}, {"dataset", "Dataset"}, {"target", "Target"}, {"task", "Task"},
		{"best", "Best model"}, {"cv", "CV"}, {"test", "Test"}, {"duration", "Duration"}, {"status", "Status"}} {
		col := column{Key: c[0], Label: c[1], Link: withQuery("./", v, "sort", c[0], "order", "", "offset", "")}
		if c[0] == cur {
			col.Mark, col.Sort = "▼", "descending"
			if q.Asc {
				col.Mark, col.Sort = "▲", "ascending"
			} else {
				col.Link = withQuery("./", v, "sort", c[0], "order", "asc", "offset", "")
			}
		}
		d.Columns = append(d.Columns, col)
	}
	limit := q.Limit
	if limit == 0 {
		limit = store.DefaultRunLimit
	}
	if q.Offset > 0 {
		d.Prev = withQuery("./", v, "offset", strconv.Itoa(max(0, q.Offset-limit)))
	}
	if q.Offset+limit < p.Total {
		d.Next = withQuery("./", v, "offset", strconv.Itoa(q.Offset+limit))
	}
	s.render(w, r, "runs.html", "Runs", "runs", d)
}

// lineageStep is one model version a run registered, with its stage.
type lineageStep struct {
	Version, Name string
	Stage         registry.Stage
	Aliases       []string
}

type runData struct {
	Run       *store.Run
	Status    store.Status
	Result    *pipeline.Result
	Config    []configRow
	Changed   int // config keys that differ from the profile's defaults
	Downloads []download
	Models    []lineageStep
	Studies   map[string]int64 // tuning study name → id, for links
	Report    bool
	Err       string // the result could not be read
}

type kv struct{ Key, Value string }

// run serves /runs/{id}: leaderboard, config, lineage, report.
func (s *Server) run(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	run, err := s.st.GetRun(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := runData{Run: run, Studies: map[string]int64{}}
	if d.Status, err = pipeline.RunStatus(ctx, s.st, run, time.Now()); err != nil {
		d.Status = run.Status
	}
	if d.Result, err = decodeResult(run); err != nil {
		d.Err = err.Error()
	} else if d.Result != nil {
		d.Report = d.Result.Report != "" && fileExists(d.Result.Report)
	}
	if d.Config, d.Changed, err = configRows(run); err != nil {
		d.Err = err.Error()
	}
	d.Downloads = downloads(run, d.Result)
	if d.Models, err = s.lineage(ctx, run.ID, d.Result); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Result != nil {
		if d.Studies, err = s.studyIDs(r, d.Result); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.render(w, r, "run.html", "Run "+run.ID, "runs", d)
}

// lineage is the model version the run registered, as its result
// records it (pipeline.Result.ModelVersion, also when the run joined an
// existing version's lineage): one version read, however many the
// registry holds. A version since removed, or one whose lineage does
// not name the run, is left out. Results saved before runs recorded
// their version (the CLI registered after saving them) fall back to
// reading every version.
func (s *Server) lineage(ctx context.Context, runID string, res *pipeline.Result) ([]lineageStep, error) {
	if res == nil {
		return nil, nil
	}
	if res.ModelVersion == "" {
		return s.lineageScan(ctx, runID)
	}
	m, err := s.reg.Get(ctx, res.ModelVersion)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if m.RunID != runID && !slices.Contains(m.Runs, runID) {
		return nil, nil
	}
	return []lineageStep{{Version: m.Version, Name: m.Name, Stage: m.Stage, Aliases: m.Aliases}}, nil
}

// lineageScan is lineage for a result that names no version: every
// version whose lineage names the run.
func (s *Server) lineageScan(ctx context.Context, runID string) ([]lineageStep, error) {
	models, err := s.reg.List(ctx, "")
	if err != nil {
		return nil, err
	}
	var out []lineageStep
	for _, m := range models {
		if m.RunID == runID || slices.Contains(m.Runs, runID) {
			out = append(out, lineageStep{Version: m.Version, Name: m.Name, Stage: m.Stage, Aliases: m.Aliases})
		}
	}
	return out, nil
}

// studyIDs maps the names of the studies res's leaderboard tuned with to
// their ids.
func (s *Server) studyIDs(r *http.Request, res *pipeline.Result) (map[string]int64, error) {
	out := map[string]int64{}
	var names []string
	for _, e := range res.Leaderboard {
		if e.Tuning != nil && e.Tuning.Study != "" {
			names = append(names, e.Tuning.Study)
		}
	}
	if len(names) == 0 {
		return out, nil
	}
	all, err := s.st.ListStudies(r.Context())
	if err != nil {
		return nil, err
	}
	for _, st := range all {
		if slices.Contains(names, st.Name) {
			out[st.Name] = st.ID
		}
	}
	return out, nil
}

// report serves the run's HTML report and the files beside it under
// its own CSP (reportCSP): it is tabforge's self-contained page (inline
// script and style, every user string escaped by package report) and
// may load nothing from elsewhere. It is not sandboxed: no page of the dashboard
// holds the admin token, so a script in it could not act anyway.
func (s *Server) report(w http.ResponseWriter, r *http.Request) {
	run, err := s.st.GetRun(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var res struct {
		Report string `json:"report"`
	}
	if len(run.Result) == 0 || json.Unmarshal(run.Result, &res) != nil || res.Report == "" {
		s.fail(w, r, &httpError{http.StatusNotFound, fmt.Errorf("run %s has no report", run.ID)})
		return
	}
	file := r.PathValue("file")
	if file == "" {
		file = filepath.Base(res.Report)
	}
	// os.Root keeps the file inside the report's directory, whatever
	// the path says (.., symlinks).
	root, err := os.OpenRoot(filepath.Dir(res.Report))
	if err != nil {
		s.fail(w, r, &httpError{http.StatusNotFound, fmt.Errorf("run %s: report: %w", run.ID, err)})
		return
	}
	defer root.Close()
	f, err := root.Open(file)
	if err != nil {
		s.fail(w, r, &httpError{http.StatusNotFound, fmt.Errorf("run %s: report file %q: %w", run.ID, file, err)})
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		s.fail(w, r, &httpError{http.StatusNotFound, fmt.Errorf("run %s: report file %q is not a file", run.ID, file)})
		return
	}
	w.Header().Set("Content-Security-Policy", reportCSP)
	http.ServeContent(w, r, st.Name(), st.ModTime(), f)
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// decodeResult reads run's result; nil without one.
func decodeResult(run *store.Run) (*pipeline.Result, error) {
	if len(run.Result) == 0 {
		return nil, nil
	}
	var res pipeline.Result
	if err := json.Unmarshal(run.Result, &res); err != nil {
		return nil, fmt.Errorf("run %s: result unreadable: %w", run.ID, err)
	}
	return &res, nil
}
