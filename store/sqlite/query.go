package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tabforge/tabforge/store"
)

var _ store.RunQuerier = (*Store)(nil)

// The headline metric lives inside the result's JSON. These expressions
// read it, and the indexes below are on exactly these expressions, so a
// page sorted by a metric walks an index instead of parsing every run's
// result. json_valid guards runs whose result is empty.
const (
	metricExpr = `(CASE WHEN json_valid(result) THEN json_extract(result, '$.metric') END)`
	cvExpr     = `(CASE WHEN json_valid(result) THEN json_extract(result, '$.leaderboard[0].cv."' || json_extract(result, '$.metric') || '"') END)`
	testExpr   = `(CASE WHEN json_valid(result) THEN json_extract(result, '$.leaderboard[0].test."' || json_extract(result, '$.metric') || '"') END)`
	durExpr    = `(CASE WHEN finished > 0 THEN finished - created END)`
)

// querySchema indexes what RunQuery sorts and filters by; Open creates
// it (once, over existing runs).
const querySchema = `
CREATE INDEX IF NOT EXISTS runs_dataset ON runs(dataset_path, id);
CREATE INDEX IF NOT EXISTS runs_best ON runs(best, id);
CREATE INDEX IF NOT EXISTS runs_target ON runs(target, id);
CREATE INDEX IF NOT EXISTS runs_status ON runs(status, id);
CREATE INDEX IF NOT EXISTS runs_cv ON runs(` + cvExpr + `, id);
CREATE INDEX IF NOT EXISTS runs_test ON runs(` + testExpr + `, id);
CREATE INDEX IF NOT EXISTS runs_duration ON runs(` + durExpr + `, id);
`

var sortExprs = map[string]string{
	"": "created", "created": "created", "dataset": "dataset_path", "target": "target", "task": "task",
	"best": "best", "status": "status", "cv": cvExpr, "test": testExpr, "duration": durExpr,
}

// QueryRuns implements store.RunQuerier: filters, sort and paging run in
// SQL, and only the page's rows have their result read.
func (s *Store) QueryRuns(ctx context.Context, q store.RunQuery) (*store.RunPage, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	where, args := runFilter(q)
	page := &store.RunPage{}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs`+where, args...).Scan(&page.Total); err != nil {
		return nil, fmt.Errorf("query runs: %w", err)
	}
	dir := " DESC"
	if q.Asc {
		dir = " ASC"
	}
	limit := q.Limit
	if limit == 0 {
		limit = store.DefaultRunLimit
	}
	sel := `SELECT id, created, finished, status, dataset_path, dataset_hash, task, target, best, profile, ` +
		metricExpr + `, ` + cvExpr + `, ` + testExpr + ` FROM runs` + where +
		` ORDER BY ` + sortExprs[q.Sort] + dir + `, id` + dir + ` LIMIT ? OFFSET ?`
	rows, err := s.db.QueryContext(ctx, sel, append(args, limit, q.Offset)...)
	if err != nil {
		return nil, fmt.Errorf("query runs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			r                 store.RunRow
			created, finished int64
			status            string
			metric            sql.NullString
			cv, test          sql.NullFloat64
		)
		if err := rows.Scan(&r.ID, &created, &finished, &status, &r.DatasetPath, &r.DatasetHash, &r.Task, &r.Target, &r.Best, &r.Profile,
			&metric, &cv, &test); err != nil {
			return nil, fmt.Errorf("query runs: %w", err)
		}
		r.Created, r.Finished, r.Status, r.Metric = fromUnix(created), fromUnix(finished), store.Status(status), metric.String
		if cv.Valid {
			r.CV = &cv.Float64
		}
		if test.Valid {
			r.Test = &test.Float64
		}
		page.Rows = append(page.Rows, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query runs: %w", err)
	}
	if page.Datasets, err = s.distinct(ctx, "dataset_path"); err != nil {
		return nil, err
	}
	if page.Models, err = s.distinct(ctx, "best"); err != nil {
		return nil, err
	}
	return page, nil
}

// runFilter is q's filters as a WHERE clause and its arguments.
func runFilter(q store.RunQuery) (string, []any) {
	var conds []string
	var args []any
	// instr, not LIKE: LIKE ends its pattern at a NUL byte (a search for
	// "\x00" matched every run), and folds the case of a hash prefix that
	// store.RunQuery.Matches compares exactly. lower folds ASCII only, as
	// Matches does. instr of two texts tries a match only where a UTF-8
	// character starts, so a search starting with a continuation byte
	// ("\xb0") missed the "@\xb0" a target holds, which Matches finds:
	// the text search compares blobs, byte by byte.
	if q.Dataset != "" {
		conds = append(conds, `(dataset_path = ? OR instr(dataset_hash, ?) = 1)`)
		args = append(args, q.Dataset, q.Dataset)
	}
	if q.Status != "" {
		conds = append(conds, `status = ?`)
		args = append(args, string(q.Status))
	}
	if q.Best != "" {
		conds = append(conds, `best = ?`)
		args = append(args, q.Best)
	}
	if q.Text != "" {
		var or []string
		for _, col := range []string{"id", "dataset_path", "target", "task", "best"} {
			or = append(or, `instr(CAST(lower(`+col+`) AS BLOB), CAST(lower(?) AS BLOB)) > 0`)
			args = append(args, q.Text)
		}
		conds = append(conds, "("+strings.Join(or, " OR ")+")")
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// globPrefix is the GLOB pattern of the keys that start with prefix:
// GLOB, not LIKE, because LIKE folds ASCII case, so "ABC" found the run
// or model version "abc…", which no other store does. false when prefix
// holds a NUL, where SQLite ends a pattern: "id\x00x" would match every
// key starting with "id" (an id cut at the NUL). false too when prefix
// is not UTF-8: GLOB reads its pattern as UTF-8, and "1\xbf…" matched
// "2108…"; listRecords reads such a prefix by byte range instead.
func globPrefix(prefix string) (string, bool) {
	if strings.IndexByte(prefix, 0) >= 0 || !utf8.ValidString(prefix) {
		return "", false
	}
	// A bracket holding one character matches just that character.
	return strings.NewReplacer(`*`, `[*]`, `?`, `[?]`, `[`, `[[]`).Replace(prefix) + "*", true
}

// distinct lists col's distinct non-empty values, sorted; its index
// makes this a walk of the index, not of the runs.
func (s *Store) distinct(ctx context.Context, col string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT `+col+` FROM runs WHERE `+col+` != '' ORDER BY `+col)
	if err != nil {
		return nil, fmt.Errorf("query runs: %s: %w", col, err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("query runs: %s: %w", col, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
