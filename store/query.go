package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// RunQuery selects one page of runs for a list (the dashboard's runs
// page): filters, one sort key and a window. The zero value is the first
// page of every run, newest first.
type RunQuery struct {
	// Dataset keeps runs whose dataset path equals it or whose dataset
	// hash starts with it.
	Dataset string
	// Status keeps runs with this recorded status (a run stopped by a
	// signal is recorded as interrupted; a running run whose process died
	// is still recorded as running).
	Status Status
	// Best keeps runs whose best model family equals it.
	Best string
	// Text keeps runs whose id, dataset path, target, task or best model
	// contains it (case-insensitive for ASCII).
	Text string
	// Sort is one of the RunSortKeys; "" means created.
	Sort string
	// Asc sorts ascending; the default is descending. Runs with no value
	// of the key (a failed run has no CV metric) sort first ascending and
	// last descending, ties by id in the same direction.
	Asc bool
	// Offset skips that many matching runs; Limit bounds the page (0
	// means 50).
	Offset, Limit int
}

// RunSortKeys are the keys a RunQuery may sort by.
var RunSortKeys = []string{"created", "dataset", "target", "task", "best", "status", "cv", "test", "duration"}

// DefaultRunLimit is the page size of a RunQuery with Limit 0.
const DefaultRunLimit = 50

// RunRow is a run's line in a list: its record without config and result,
// plus its headline metric read from the result.
type RunRow struct {
	ID          string    `json:"id"`
	Created     time.Time `json:"created"`
	Finished    time.Time `json:"finished,omitzero"`
	Status      Status    `json:"status"`
	DatasetPath string    `json:"dataset_path"`
	DatasetHash string    `json:"dataset_hash"`
	Task        string    `json:"task"`
	Target      string    `json:"target"`
	Best        string    `json:"best,omitempty"`
	Profile     string    `json:"profile,omitempty"`
	// Metric is the metric the run's leaderboard is ranked by; CV and
	// Test the leader's values of it, nil when absent.
	Metric string   `json:"metric,omitempty"`
	CV     *float64 `json:"cv,omitempty"`
	Test   *float64 `json:"test,omitempty"`
}

// Seconds is the run's duration, or -1 while it has not finished.
func (r *RunRow) Seconds() float64 {
	if r.Finished.IsZero() {
		return -1
	}
	return r.Finished.Sub(r.Created).Seconds()
}

// RunPage is the answer to a RunQuery.
type RunPage struct {
	Rows []RunRow `json:"rows"`
	// Total counts the runs matching the filters, over all pages.
	Total int `json:"total"`
	// Datasets and Models are the distinct dataset paths and best model
	// families of all runs (whatever the filters), sorted, for filter
	// menus.
	Datasets []string `json:"datasets"`
	Models   []string `json:"models"`
}

// RunQuerier answers RunQuery without reading every run's full record;
// store/sqlite (indexes) and store/redis (a small row per run) implement
// it. Stores that do not are queried with QueryRuns's fallback.
type RunQuerier interface {
	QueryRuns(ctx context.Context, q RunQuery) (*RunPage, error)
}

// QueryRuns answers q from st: by st's own QueryRuns when it has one,
// else by listing every run and selecting in memory.
func QueryRuns(ctx context.Context, st Runs, q RunQuery) (*RunPage, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	if rq, ok := st.(RunQuerier); ok {
		return rq.QueryRuns(ctx, q)
	}
	runs, err := st.ListRuns(ctx, 0)
	if err != nil {
		return nil, err
	}
	rows := make([]RunRow, len(runs))
	for i, r := range runs {
		rows[i] = RowOf(r)
	}
	return SelectRuns(rows, q), nil
}

// MaxQueryText bounds a RunQuery's text filters (Text, Dataset, Best), far
// above any id, path or name and far below SQLite's LIKE pattern limit.
const MaxQueryText = 1000

// Check reports a sort key that is not one of RunSortKeys, a negative
// window or a text filter longer than MaxQueryText bytes.
func (q RunQuery) Check() error {
	for name, s := range map[string]string{"search text": q.Text, "dataset filter": q.Dataset, "model filter": q.Best} {
		if len(s) > MaxQueryText {
			return fmt.Errorf("%s of %d bytes: at most %d", name, len(s), MaxQueryText)
		}
	}
	if q.Sort != "" && !slices.Contains(RunSortKeys, q.Sort) {
		return fmt.Errorf("sort key %q is not one of %s", q.Sort, strings.Join(RunSortKeys, ", "))
	}
	if q.Offset < 0 || q.Limit < 0 {
		return fmt.Errorf("run page offset %d, limit %d: must not be negative", q.Offset, q.Limit)
	}
	return nil
}

// headline is the part of a run's result a RunRow reads. The result's
// JSON is written by package pipeline; these are its field names.
type headline struct {
	Metric      string `json:"metric"`
	Leaderboard []struct {
		// Pointers: an undefined metric is written as null (see
		// eval.Metrics), which must read as missing, not 0.
		CV   map[string]*float64 `json:"cv"`
		Test map[string]*float64 `json:"test"`
	} `json:"leaderboard"`
}

// RowOf returns r's line in a list. A result that does not parse gives a
// row without metrics.
func RowOf(r *Run) RunRow {
	row := RunRow{ID: r.ID, Created: r.Created, Finished: r.Finished, Status: r.Status, DatasetPath: r.DatasetPath,
		DatasetHash: r.DatasetHash, Task: r.Task, Target: r.Target, Best: r.Best, Profile: r.Profile}
	var h headline
	if len(r.Result) == 0 || json.Unmarshal(r.Result, &h) != nil {
		return row
	}
	row.Metric = h.Metric
	if len(h.Leaderboard) > 0 && h.Metric != "" {
		row.CV, row.Test = h.Leaderboard[0].CV[h.Metric], h.Leaderboard[0].Test[h.Metric]
	}
	return row
}

// Matches reports whether row passes q's filters.
func (q RunQuery) Matches(row *RunRow) bool {
	if q.Dataset != "" && row.DatasetPath != q.Dataset && !strings.HasPrefix(row.DatasetHash, q.Dataset) {
		return false
	}
	if q.Status != "" && row.Status != q.Status {
		return false
	}
	if q.Best != "" && row.Best != q.Best {
		return false
	}
	if q.Text == "" {
		return true
	}
	t := lowerASCII(q.Text)
	for _, f := range []string{row.ID, row.DatasetPath, row.Target, row.Task, row.Best} {
		if strings.Contains(lowerASCII(f), t) {
			return true
		}
	}
	return false
}

// lowerASCII lowers A-Z only: SQLite's LIKE folds ASCII case alone, and
// Unicode folding here made the same search find "Éte.csv" in memory
// (store/redis) and not in store/sqlite.
// It works on bytes, so invalid UTF-8 is compared as it is stored.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// SelectRuns answers q over rows in memory, with the same order and
// filters as store/sqlite's QueryRuns. rows is reordered.
func SelectRuns(rows []RunRow, q RunQuery) *RunPage {
	page := &RunPage{}
	datasets, models := map[string]bool{}, map[string]bool{}
	kept := rows[:0:0]
	for i := range rows {
		if rows[i].DatasetPath != "" {
			datasets[rows[i].DatasetPath] = true
		}
		if rows[i].Best != "" {
			models[rows[i].Best] = true
		}
		if q.Matches(&rows[i]) {
			kept = append(kept, rows[i])
		}
	}
	page.Datasets, page.Models = sortedKeys(datasets), sortedKeys(models)
	slices.SortFunc(kept, func(a, b RunRow) int {
		c := compareRows(&a, &b, q.Sort)
		if c == 0 {
			c = strings.Compare(a.ID, b.ID)
		}
		if !q.Asc {
			c = -c
		}
		return c
	})
	page.Total = len(kept)
	limit := q.Limit
	if limit == 0 {
		limit = DefaultRunLimit
	}
	lo := min(q.Offset, len(kept))
	hi := min(lo+limit, len(kept))
	page.Rows = kept[lo:hi]
	return page
}

// compareRows orders two rows by key ascending, a missing value first
// (as SQL orders NULL).
func compareRows(a, b *RunRow, key string) int {
	switch key {
	case "dataset":
		return strings.Compare(a.DatasetPath, b.DatasetPath)
	case "target":
		return strings.Compare(a.Target, b.Target)
	case "task":
		return strings.Compare(a.Task, b.Task)
	case "best":
		return strings.Compare(a.Best, b.Best)
	case "status":
		return strings.Compare(string(a.Status), string(b.Status))
	case "cv":
		return compareOptional(a.CV, b.CV)
	case "test":
		return compareOptional(a.Test, b.Test)
	case "duration":
		da, db := a.Seconds(), b.Seconds()
		return compareOptional(optional(da, da >= 0), optional(db, db >= 0))
	}
	return a.Created.Compare(b.Created)
}

func optional(v float64, ok bool) *float64 {
	if !ok {
		return nil
	}
	return &v
}

func compareOptional(a, b *float64) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return cmp.Compare(*a, *b)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
