// Package sqlite implements tabforge's embedded default store on an SQLite
// file (modernc.org/sqlite, pure Go). The database runs in WAL mode with a
// busy timeout, so several tabforge processes can share one file.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"modernc.org/sqlite" // also registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/tabforge/tabforge/store"
)

// Store is an SQLite-backed store. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
}

var (
	_ store.Runs    = (*Store)(nil)
	_ store.Records = (*Store)(nil)
)

const schema = `
CREATE TABLE IF NOT EXISTS runs (
	id           TEXT PRIMARY KEY,
	created      INTEGER NOT NULL,
	finished     INTEGER NOT NULL DEFAULT 0,
	status       TEXT NOT NULL,
	dataset_path TEXT NOT NULL,
	dataset_hash TEXT NOT NULL,
	config_hash  TEXT NOT NULL,
	config       TEXT NOT NULL,
	task         TEXT NOT NULL,
	target       TEXT NOT NULL,
	best         TEXT NOT NULL DEFAULT '',
	model_path   TEXT NOT NULL DEFAULT '',
	result       TEXT NOT NULL DEFAULT '',
	error        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS runs_created ON runs(created);
CREATE TABLE IF NOT EXISTS records (
	kind    TEXT NOT NULL,
	key     TEXT NOT NULL,
	value   BLOB NOT NULL,
	updated INTEGER NOT NULL,
	PRIMARY KEY (kind, key)
);
`

// Open opens (creating if needed) the store at path.
// Write transactions start IMMEDIATE: a deferred one that reads first
// and then writes fails with SQLITE_BUSY, without waiting out the busy
// timeout, when another connection wrote in between.
func Open(ctx context.Context, path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return open(ctx, path, "rwc")
}

// OpenExisting opens the store at path as Open does, but creates neither
// the file nor its directory: where there is no file it returns an error
// wrapping store.ErrNoStore. A caller that only reads (lists runs, shows a
// model) should not leave an empty store behind a mistyped path and then
// report that it holds nothing.
func OpenExisting(ctx context.Context, path string) (*Store, error) {
	// mode=rw makes SQLite refuse a missing file rather than create it;
	// any failure to open a path with no file means there is no store.
	st, err := open(ctx, path, "rw")
	if _, serr := os.Stat(path); err != nil && errors.Is(serr, fs.ErrNotExist) {
		return nil, fmt.Errorf("open store %s: %w", path, store.ErrNoStore)
	}
	return st, err
}

// open opens the database at path in the SQLite open mode given (rwc
// creates the file, rw does not) and creates what its schema lacks.
func open(ctx context.Context, path, mode string) (*Store, error) {
	dsn := fmt.Sprintf("file:%s?mode=%s&_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)&_txlock=immediate",
		path, mode, busyTimeout.Milliseconds())
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := createSchema(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return &Store{db: db, path: path}, nil
}

// createSchema creates what is missing in one IMMEDIATE transaction: as
// separate statements, each would read the schema and then ask to write,
// and SQLite answers SQLITE_BUSY at once, without waiting out the busy
// timeout, to a reader asking to write while another connection writes
// (several workers opening one new file together). The connection's own
// setup (switching a new file to WAL) can meet the same refusal, so a
// busy error is retried for as long as the busy timeout would wait.
func createSchema(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(busyTimeout)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := func() error {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			if _, err := tx.ExecContext(ctx, schema+querySchema+journalSchema+journalSeqIndex+";"+primaryEpochSchema); err != nil {
				return err
			}
			if err := addProfile(ctx, tx); err != nil {
				return err
			}
			if err := addJournalBase(ctx, tx); err != nil {
				return err
			}
			return tx.Commit()
		}()
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// busyTimeout is how long a connection waits for another's lock; it is
// the busy_timeout pragma of every connection.
const busyTimeout = 10 * time.Second

// isBusy reports a lock another connection holds (SQLITE_BUSY or one of
// its extended codes).
func isBusy(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

// IsCorrupt reports whether err is SQLite's verdict on the file itself:
// damaged (SQLITE_CORRUPT, "database disk image is malformed") or not a
// database (SQLITE_NOTADB). Only a backup helps such a file; permissions
// or locks do not.
func IsCorrupt(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	c := e.Code() & 0xff
	return c == sqlite3.SQLITE_CORRUPT || c == sqlite3.SQLITE_NOTADB
}

// addProfile adds the runs' profile column to a store made before runs
// kept it; old runs get "" (profile unknown). Two processes opening the
// same old file take turns: createSchema's transaction holds the write
// lock from the check to the change, so the second sees the column.
func addProfile(ctx context.Context, tx *sql.Tx) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info('runs') WHERE name = 'profile'`).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `ALTER TABLE runs ADD COLUMN profile TEXT NOT NULL DEFAULT ''`)
	return err
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnix(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// PutRun implements store.Runs.
func (s *Store) PutRun(ctx context.Context, r *store.Run) error {
	if err := putRun(ctx, s.db, r); err != nil {
		return fmt.Errorf("store run %s: %w", r.ID, err)
	}
	return nil
}

var _ store.FencedRunWriter = (*Store)(nil)

// PutRunFenced implements store.FencedRunWriter: the lease is read and
// the run written in one transaction, which holds the write lock from
// its start (_txlock=immediate), so no takeover comes in between.
func (s *Store) PutRunFenced(ctx context.Context, r *store.Run, f store.Fence) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := checkFences(ctx, tx, []store.Fence{f}); err != nil {
			return err
		}
		return putRun(ctx, tx, r)
	})
	if err != nil {
		return fmt.Errorf("store run %s: %w", r.ID, err)
	}
	return nil
}

var _ store.RunCreator = (*Store)(nil)

// CreateRun implements store.RunCreator in one INSERT that does nothing
// where the run exists.
func (s *Store) CreateRun(ctx context.Context, r *store.Run) (bool, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO runs
		(id, created, finished, status, dataset_path, dataset_hash, config_hash, config, task, target, best, model_path, result, error, profile)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING`, runArgs(r)...)
	if err != nil {
		return false, fmt.Errorf("create run %s: %w", r.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("create run %s: %w", r.ID, err)
	}
	return n == 1, nil
}

// execer is a database or a transaction, to write in.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func putRun(ctx context.Context, db execer, r *store.Run) error {
	_, err := db.ExecContext(ctx, `INSERT INTO runs
		(id, created, finished, status, dataset_path, dataset_hash, config_hash, config, task, target, best, model_path, result, error, profile)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET finished=excluded.finished, status=excluded.status,
			dataset_path=excluded.dataset_path, dataset_hash=excluded.dataset_hash, config_hash=excluded.config_hash,
			config=excluded.config, task=excluded.task, target=excluded.target, best=excluded.best,
			model_path=excluded.model_path, result=excluded.result, error=excluded.error, profile=excluded.profile`,
		runArgs(r)...)
	return err
}

// runArgs are the values of r's columns, in the order putRun and
// CreateRun name them.
func runArgs(r *store.Run) []any {
	return []any{r.ID, unix(r.Created), unix(r.Finished), string(r.Status), r.DatasetPath, r.DatasetHash, r.ConfigHash,
		string(r.Config), r.Task, r.Target, r.Best, r.ModelPath, string(r.Result), r.Error, r.Profile}
}

// DeleteRun implements store.Runs.
func (s *Store) DeleteRun(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM runs WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete run %s: %w", id, err)
	}
	return nil
}

// Vacuum rebuilds the database file, returning the pages that deleted
// runs and records left free to the file system. In WAL mode VACUUM
// writes the rebuilt database to the write-ahead log, as large as the
// database, and the file shrinks only when the log is checkpointed:
// Vacuum checkpoints and truncates the log at once rather than when the
// last connection closes, which a long-running process sharing the file
// (serve, watch) may not do for months. A reader still in a transaction
// can keep the checkpoint from finishing; that is not an error, and the
// next checkpoint finishes it.
func (s *Store) Vacuum(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `VACUUM`); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("vacuum: checkpoint: %w", err)
	}
	return nil
}

// FreeShare returns the share of the database file's pages that are free
// (left by deleted rows and records): what Vacuum would give back.
func (s *Store) FreeShare(ctx context.Context) (float64, error) {
	var free, total int64
	if err := s.db.QueryRowContext(ctx, `SELECT (SELECT freelist_count FROM pragma_freelist_count), (SELECT page_count FROM pragma_page_count)`).Scan(&free, &total); err != nil {
		return 0, fmt.Errorf("free pages: %w", err)
	}
	if total == 0 {
		return 0, nil
	}
	return float64(free) / float64(total), nil
}

const runColumns = `id, created, finished, status, dataset_path, dataset_hash, config_hash, config, task, target, best, model_path, result, error, profile`

func scanRun(sc interface{ Scan(...any) error }) (*store.Run, error) {
	var r store.Run
	var created, finished int64
	var status, config, result string
	if err := sc.Scan(&r.ID, &created, &finished, &status, &r.DatasetPath, &r.DatasetHash, &r.ConfigHash,
		&config, &r.Task, &r.Target, &r.Best, &r.ModelPath, &result, &r.Error, &r.Profile); err != nil {
		return nil, err
	}
	r.Created, r.Finished, r.Status = fromUnix(created), fromUnix(finished), store.Status(status)
	r.Config = []byte(config)
	if result != "" {
		r.Result = []byte(result)
	}
	return &r, nil
}

// GetRun implements store.Runs. id may be a unique prefix of a run id.
func (s *Store) GetRun(ctx context.Context, id string) (*store.Run, error) {
	if id == "" {
		return nil, fmt.Errorf("run id is empty: %w", store.ErrNotFound)
	}
	pattern, ok := globPrefix(id)
	if !ok {
		return nil, fmt.Errorf("run %q: %w", id, store.ErrNotFound)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id GLOB ? ORDER BY created DESC LIMIT 2`, pattern)
	if err != nil {
		return nil, fmt.Errorf("get run %s: %w", id, err)
	}
	defer rows.Close()
	var found []*store.Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("get run %s: %w", id, err)
		}
		found = append(found, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("get run %s: %w", id, err)
	}
	switch {
	case len(found) == 0:
		return nil, fmt.Errorf("run %s: %w", id, store.ErrNotFound)
	case len(found) > 1 && found[0].ID != id && found[1].ID != id:
		return nil, fmt.Errorf("%w %q", store.ErrAmbiguous, id)
	case len(found) > 1 && found[1].ID == id:
		return found[1], nil
	}
	return found[0], nil
}

// ListRuns implements store.Runs.
func (s *Store) ListRuns(ctx context.Context, limit int) ([]*store.Run, error) {
	return listRuns(ctx, s.db, limit)
}

func listRuns(ctx context.Context, db querier, limit int) ([]*store.Run, error) {
	q := `SELECT ` + runColumns + ` FROM runs ORDER BY created DESC, id`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	var out []*store.Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
