package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/tune"
)

var _ store.Store = (*Store)(nil)

// URL implements store.Store.
func (s *Store) URL() string { return "sqlite://" + s.path }

// Ping implements store.Store: it checks that the file can be written,
// which is what a read-only path or a full disk breaks.
func (s *Store) Ping(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS ping (x INTEGER); DELETE FROM ping; INSERT INTO ping VALUES (1)`); err != nil {
		return fmt.Errorf("sqlite %s is not writable: %w", s.path, err)
	}
	return nil
}

// Kinds implements store.Store.
func (s *Store) Kinds(ctx context.Context) ([]string, error) {
	return kinds(ctx, s.db)
}

func kinds(ctx context.Context, db querier) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT DISTINCT kind FROM records ORDER BY kind`)
	if err != nil {
		return nil, fmt.Errorf("list record kinds: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("list record kinds: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// hasStudies reports whether the study tables exist; CreateStudy makes
// them, so a store that never tuned has none.
func hasStudies(ctx context.Context, db querier) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name='studies'`).Scan(&n)
	return n > 0, err
}

// ListStudies implements store.Studies.
func (s *Store) ListStudies(ctx context.Context) ([]store.Study, error) {
	return listStudies(ctx, s.db)
}

func listStudies(ctx context.Context, db querier) ([]store.Study, error) {
	ok, err := hasStudies(ctx, db)
	if err != nil || !ok {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT id, name, direction, created FROM studies ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list studies: %w", err)
	}
	defer rows.Close()
	var out []store.Study
	for rows.Next() {
		var st store.Study
		var dir string
		var created int64
		if err := rows.Scan(&st.ID, &st.Name, &dir, &created); err != nil {
			return nil, fmt.Errorf("list studies: %w", err)
		}
		st.Direction, st.Created = tune.Direction(dir), fromUnix(created)
		out = append(out, st)
	}
	return out, rows.Err()
}

// PutStudy implements store.Studies.
func (s *Store) PutStudy(ctx context.Context, st store.Study) (int64, error) {
	if err := s.initStudies(ctx); err != nil {
		return 0, fmt.Errorf("put study %q: %w", st.Name, err)
	}
	created := st.Created
	if created.IsZero() {
		created = time.Now()
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO studies (name, direction, created) VALUES (?, ?, ?) ON CONFLICT(name) DO NOTHING`,
		st.Name, string(st.Direction), created.UnixNano()); err != nil {
		return 0, fmt.Errorf("put study %q: %w", st.Name, err)
	}
	return s.CreateStudy(ctx, st.Name, st.Direction)
}

// PutTrial implements store.Studies.
func (s *Store) PutTrial(ctx context.Context, study string, t tune.FrozenTrial) error {
	if ok, err := hasStudies(ctx, s.db); err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("study %q: %w", study, store.ErrNotFound)
		}
		return fmt.Errorf("put trial %d of study %q: %w", t.Number, study, err)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		sid, err := studyID(ctx, tx, study)
		if err != nil {
			return err
		}
		return putTrial(ctx, tx, sid, t)
	})
	if err != nil {
		return fmt.Errorf("put trial %d of study %q: %w", t.Number, study, err)
	}
	return nil
}

// studyID returns the id of the study called study.
func studyID(ctx context.Context, tx *sql.Tx, study string) (int64, error) {
	var sid int64
	if err := tx.QueryRowContext(ctx, `SELECT id FROM studies WHERE name = ?`, study).Scan(&sid); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("study %q: %w", study, store.ErrNotFound)
		}
		return 0, err
	}
	return sid, nil
}

// putTrial writes t over the trial of its number in study sid, if any.
func putTrial(ctx context.Context, tx *sql.Tx, sid int64, t tune.FrozenTrial) error {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO trials (study_id, number, state, value, retry_of, error, started, finished)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(study_id, number) DO UPDATE SET state=excluded.state, value=excluded.value, retry_of=excluded.retry_of,
			error=excluded.error, started=excluded.started, finished=excluded.finished
		RETURNING id`, sid, t.Number, string(t.State), nullable(t.Value), t.RetryOf, t.Error, unix(t.Start), unix(t.Finish)).Scan(&id)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM trial_params WHERE trial_id = ?`, id); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM trial_values WHERE trial_id = ?`, id); err != nil {
		return err
	}
	for name, v := range t.Params {
		dist, err := json.Marshal(t.Distributions[name])
		if err != nil {
			return fmt.Errorf("parameter %q: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO trial_params (trial_id, name, value, distribution) VALUES (?, ?, ?, ?)`,
			id, name, v, string(dist)); err != nil {
			return err
		}
	}
	for step, v := range t.Intermediate {
		if _, err := tx.ExecContext(ctx, `INSERT INTO trial_values (trial_id, step, value) VALUES (?, ?, ?)`, id, step, nullable(v)); err != nil {
			return err
		}
	}
	return nil
}

// Pending is one write a failover store made here while its primary was
// unreachable, still to be replayed there. It names what changed, not
// the change: replay copies the current state, so replaying twice writes
// the same thing.
type Pending struct {
	// Seq orders the entries; marking an entry again gives it a new Seq.
	Seq int64
	// Kind is "run", "record", "study" or "trial".
	Kind string
	// A and B are the key: the run id; the record kind and key; the study
	// name; the study name and trial number.
	A, B string
	// Target names the primary the write is owed to (its URL without
	// credentials, with its key prefix), so that one fallback file shared
	// by several Redis stores replays each write to its own.
	Target string
	// Base is, for a record, what the fallback held under its key before
	// the first write journalled for it (see RecordBase): the state that
	// write was made on. Marking the key again keeps the first Base. For
	// a lease's record, and a run written under a lease, it is instead
	// the acquisition the last write belongs to (see LeaseBase), which
	// marking the key again replaces. "" for other kinds and for
	// journals written before bases were kept.
	Base string
}

// A LeaseBase is, for Pending.Base, the lease acquisition a write on the
// fallback belongs to: replay leaves the primary's state where the
// primary's record of that lease has moved on to a newer holder.
type LeaseBase struct {
	store.Fence
	// Primary reports that the acquisition was written on the primary
	// before the write moved to the fallback: the primary holds it then,
	// unless it has been removed since.
	Primary bool
}

const leaseBasePrefix = "lease:"

// String returns b as a Pending.Base.
func (b LeaseBase) String() string {
	j, _ := json.Marshal(b)
	return leaseBasePrefix + string(j)
}

// ParseLeaseBase returns the LeaseBase a Pending.Base names, false if it
// names none.
func ParseLeaseBase(base string) (LeaseBase, bool) {
	var b LeaseBase
	rest, ok := strings.CutPrefix(base, leaseBasePrefix)
	if !ok || json.Unmarshal([]byte(rest), &b) != nil {
		return LeaseBase{}, false
	}
	return b, true
}

// RecordBase names a record's state for Pending.Base: "absent" for no
// record, else the SHA-256 of its value.
func RecordBase(r *store.Record) string {
	if r == nil {
		return "absent"
	}
	sum := sha256.Sum256(r.Value)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// journalSchema is the failover journal (see Pending). Open creates it
// in every store, with journalSeqIndex and addJournalBase, so that a
// journal write runs no schema statement: a fallback file is an
// ordinary store, and any store may become one.
const journalSchema = `
CREATE TABLE IF NOT EXISTS pending_writes (
	target TEXT NOT NULL,
	kind   TEXT NOT NULL,
	a      TEXT NOT NULL,
	b      TEXT NOT NULL,
	seq    INTEGER NOT NULL,
	base   TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (target, kind, a, b)
);`

// journalSeqIndex lets MarkPending find the last Seq without reading
// the whole journal, which grows by a page of entries with each prune
// during an outage.
const journalSeqIndex = `CREATE INDEX IF NOT EXISTS pending_writes_seq ON pending_writes (seq)`

// addJournalBase adds the base column to a journal made before bases
// were kept (old entries get "", see Pending.Base), in createSchema's
// transaction, so two processes opening one old file take turns.
func addJournalBase(ctx context.Context, tx *sql.Tx) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info('pending_writes') WHERE name = 'base'`).Scan(&n); err != nil || n > 0 {
		return err
	}
	_, err := tx.ExecContext(ctx, `ALTER TABLE pending_writes ADD COLUMN base TEXT NOT NULL DEFAULT ''`)
	return err
}

// journalChunk is how many journal entries one INSERT writes: at 6
// variables each, under 999, SQLite's limit on a statement's variables
// before 3.32.
const journalChunk = 150

// MarkPending records that each p's key changed and must be replayed,
// in one transaction: an INSERT per chunk of entries, numbered after
// the journal's last Seq, which the transaction reads once (it holds
// the write lock from its start, so no other mark comes in between).
func (s *Store) MarkPending(ctx context.Context, ps ...Pending) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var seq int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM pending_writes`).Scan(&seq); err != nil {
			return err
		}
		for chunk := range slices.Chunk(ps, journalChunk) {
			args := make([]any, 0, 6*len(chunk))
			for _, p := range chunk {
				seq++
				args = append(args, p.Target, p.Kind, p.A, p.B, seq, p.Base)
			}
			// A key marked twice in one call keeps the later Seq, as
			// if marked by two calls; a lease base is the later one's.
			q := `INSERT INTO pending_writes (target, kind, a, b, seq, base) VALUES (?, ?, ?, ?, ?, ?)` +
				strings.Repeat(`, (?, ?, ?, ?, ?, ?)`, len(chunk)-1) +
				` ON CONFLICT(target, kind, a, b) DO UPDATE SET seq = excluded.seq,
					base = CASE WHEN excluded.base LIKE '` + leaseBasePrefix + `%' THEN excluded.base ELSE pending_writes.base END`
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("journal %d writes: %w", len(ps), err)
	}
	return nil
}

// PendingWrites returns the journal in the order it was written.
func (s *Store) PendingWrites(ctx context.Context) ([]Pending, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, kind, a, b, target, base FROM pending_writes ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	defer rows.Close()
	var out []Pending
	for rows.Next() {
		var p Pending
		if err := rows.Scan(&p.Seq, &p.Kind, &p.A, &p.B, &p.Target, &p.Base); err != nil {
			return nil, fmt.Errorf("read journal: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ClearPending removes each p from the journal, in one transaction, one
// statement prepared once (a DELETE of many entries at once, by row
// values, was no faster), unless it was marked again since it was read
// (its Seq changed), in which case it stays for the next replay.
func (s *Store) ClearPending(ctx context.Context, ps ...Pending) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `DELETE FROM pending_writes WHERE target = ? AND kind = ? AND a = ? AND b = ? AND seq = ?`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, p := range ps {
			if _, err := st.ExecContext(ctx, p.Target, p.Kind, p.A, p.B, p.Seq); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("clear %d journal entries: %w", len(ps), err)
	}
	return nil
}

// FromURL returns the path of a sqlite:// URL: sqlite://rel/path.db is
// relative to the working directory, sqlite:///abs/path.db absolute.
func FromURL(raw string) (string, error) {
	rest, ok := cutScheme(raw)
	if !ok || rest == "" {
		return "", fmt.Errorf("store %q: want sqlite://PATH", raw)
	}
	if p, err := url.PathUnescape(rest); err == nil {
		rest = p
	}
	return rest, nil
}

func cutScheme(raw string) (string, bool) {
	const scheme = "sqlite://"
	if len(raw) < len(scheme) || raw[:len(scheme)] != scheme {
		return "", false
	}
	return raw[len(scheme):], true
}

// PutRecords implements store.Store in one transaction.
func (s *Store) PutRecords(ctx context.Context, recs []*store.Record) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, r := range recs {
			updated := r.Updated
			if updated.IsZero() {
				updated = time.Now()
			}
			v := r.Value
			if v == nil {
				v = []byte{}
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO records (kind, key, value, updated) VALUES (?,?,?,?)
				ON CONFLICT(kind, key) DO UPDATE SET value=excluded.value, updated=excluded.updated`,
				r.Kind, r.Key, v, updated.UnixNano()); err != nil {
				return fmt.Errorf("record %s/%s: %w", r.Kind, r.Key, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store records: %w", err)
	}
	return nil
}

// Check implements store.Checker: the file must be whole (SQLite's
// quick_check: a file with damaged pages still opens and takes a write,
// while every command that reads the damaged part fails) and writable.
func (s *Store) Check(ctx context.Context) []store.Problem {
	if err := s.quickCheck(ctx); err != nil {
		return []store.Problem{{What: fmt.Sprintf("sqlite store %s is damaged: %v", s.path, err),
			Fix: "the SQLite database is damaged: restore it from a backup (tabforge store import) or choose another path"}}
	}
	if err := s.Ping(ctx); err != nil {
		return []store.Problem{{What: err.Error(),
			Fix: "point --store (or the fallback) at a writable path, e.g. sqlite://.tabforge/tabforge.db, and check the disk is not full"}}
	}
	return nil
}

// quickCheck runs PRAGMA quick_check, which reads every page (linear in
// the file's size), and returns its first finding, with how many more
// there are (one line: doctor prints it beside its fix), or nil when it
// finds the file whole.
func (s *Store) quickCheck(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `PRAGMA quick_check`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		// A row may hold several findings, one a line, under headers
		// naming the database ("*** in database main ***").
		for _, f := range strings.Split(line, "\n") {
			if f = strings.TrimSpace(f); f != "" && !strings.HasPrefix(f, "***") {
				found = append(found, f)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	switch {
	case len(found) == 0 || len(found) == 1 && found[0] == "ok":
		return nil
	case len(found) == 1:
		return errors.New(found[0])
	}
	return fmt.Errorf("%s (and %d more findings)", found[0], len(found)-1)
}
