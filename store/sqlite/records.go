package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tabforge/tabforge/store"
)

// PutRecord implements store.Records.
func (s *Store) PutRecord(ctx context.Context, kind, key string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO records (kind, key, value, updated) VALUES (?,?,?,?)
		ON CONFLICT(kind, key) DO UPDATE SET value=excluded.value, updated=excluded.updated`,
		kind, key, value, time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("store record %s/%s: %w", kind, key, err)
	}
	return nil
}

// CreateRecord implements store.Claimer.
func (s *Store) CreateRecord(ctx context.Context, kind, key string, value []byte) (bool, error) {
	ok, err := createRecord(ctx, s.db, kind, key, value)
	if err != nil {
		return false, fmt.Errorf("create record %s/%s: %w", kind, key, err)
	}
	return ok, nil
}

// createRecord writes (kind, key) in db unless it exists, and reports
// whether it did.
func createRecord(ctx context.Context, db execer, kind, key string, value []byte) (bool, error) {
	if value == nil {
		value = []byte{}
	}
	res, err := db.ExecContext(ctx, `INSERT INTO records (kind, key, value, updated) VALUES (?,?,?,?)
		ON CONFLICT(kind, key) DO NOTHING`, kind, key, value, time.Now().UnixNano())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// GetRecord implements store.Records.
func (s *Store) GetRecord(ctx context.Context, kind, key string) (*store.Record, error) {
	r := &store.Record{Kind: kind, Key: key}
	var updated int64
	err := s.db.QueryRowContext(ctx, `SELECT value, updated FROM records WHERE kind=? AND key=?`, kind, key).Scan(&r.Value, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("record %s/%s: %w", kind, key, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get record %s/%s: %w", kind, key, err)
	}
	r.Updated = fromUnix(updated)
	return r, nil
}

// ListRecords implements store.Records.
func (s *Store) ListRecords(ctx context.Context, kind, prefix string) ([]*store.Record, error) {
	return listRecords(ctx, s.db, kind, prefix)
}

func listRecords(ctx context.Context, db querier, kind, prefix string) ([]*store.Record, error) {
	query, arg := `SELECT key, value, updated FROM records WHERE kind=? AND key GLOB ? ORDER BY key`, any(nil)
	if pattern, ok := globPrefix(prefix); ok {
		arg = pattern
	} else if strings.IndexByte(prefix, 0) >= 0 {
		return nil, nil // no key holds a NUL
	} else {
		// Not UTF-8: keys compare as bytes, so those with the prefix
		// are a run of keys from it on; the filter below ends the run.
		query, arg = `SELECT key, value, updated FROM records WHERE kind=? AND key >= ? ORDER BY key`, prefix
	}
	rows, err := db.QueryContext(ctx, query, kind, arg)
	if err != nil {
		return nil, fmt.Errorf("list records %s: %w", kind, err)
	}
	out, err := scanRecords(rows, kind)
	if err != nil {
		return nil, fmt.Errorf("list records %s: %w", kind, err)
	}
	end := slices.IndexFunc(out, func(r *store.Record) bool { return !strings.HasPrefix(r.Key, prefix) })
	if end >= 0 {
		out = out[:end]
	}
	return out, nil
}

// scanRecords reads rows of (key, value, updated) of kind, and closes
// them.
func scanRecords(rows *sql.Rows, kind string) ([]*store.Record, error) {
	defer rows.Close()
	var out []*store.Record
	for rows.Next() {
		r := &store.Record{Kind: kind}
		var updated int64
		if err := rows.Scan(&r.Key, &r.Value, &updated); err != nil {
			return nil, err
		}
		r.Updated = fromUnix(updated)
		out = append(out, r)
	}
	return out, rows.Err()
}

// DeleteRecord implements store.Records.
func (s *Store) DeleteRecord(ctx context.Context, kind, key string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM records WHERE kind=? AND key=?`, kind, key); err != nil {
		return fmt.Errorf("delete record %s/%s: %w", kind, key, err)
	}
	return nil
}

// deleteChunk is how many keys one DELETE names: well under SQLite's
// limit on a statement's variables (32766; 999 before 3.32).
const deleteChunk = 500

// DeleteRecords implements store.RecordDeleter in one transaction, a
// DELETE per chunk of keys: the records all go, or none do.
func (s *Store) DeleteRecords(ctx context.Context, kind string, keys []string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for chunk := range slices.Chunk(keys, deleteChunk) {
			args := make([]any, 0, len(chunk)+1)
			args = append(args, kind)
			for _, k := range chunk {
				args = append(args, k)
			}
			q := `DELETE FROM records WHERE kind=? AND key IN (?` + strings.Repeat(",?", len(chunk)-1) + `)`
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete %d records %s: %w", len(keys), kind, err)
	}
	return nil
}

// GetRecords implements store.RecordGetter: a SELECT per chunk of keys,
// so reading n records costs n/deleteChunk queries rather than n.
func (s *Store) GetRecords(ctx context.Context, kind string, keys []string) ([]*store.Record, error) {
	found := make(map[string]*store.Record, len(keys))
	for chunk := range slices.Chunk(keys, deleteChunk) {
		args := make([]any, 0, len(chunk)+1)
		args = append(args, kind)
		for _, k := range chunk {
			args = append(args, k)
		}
		rows, err := s.db.QueryContext(ctx, `SELECT key, value, updated FROM records WHERE kind=? AND key IN (?`+strings.Repeat(",?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("get %d records %s: %w", len(keys), kind, err)
		}
		recs, err := scanRecords(rows, kind)
		if err != nil {
			return nil, fmt.Errorf("get %d records %s: %w", len(keys), kind, err)
		}
		for _, r := range recs {
			found[r.Key] = r
		}
	}
	return inKeyOrder(found, keys), nil
}

// inKeyOrder returns the records of found under keys, in the order of
// keys.
func inKeyOrder(found map[string]*store.Record, keys []string) []*store.Record {
	out := make([]*store.Record, 0, len(found))
	for _, k := range keys {
		if r, ok := found[k]; ok {
			out = append(out, r)
		}
	}
	return out
}

var _ store.CachePruner = (*Store)(nil)

// PruneCache implements store.CachePruner in one statement, so a cache
// record is either kept or gone, never half removed; counting runs in the
// same transaction, so the counts are those of the records removed.
func (s *Store) PruneCache(ctx context.Context, before time.Time, dry bool) (n int, bytes int64, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		const where = ` FROM records WHERE kind=? AND updated < ?`
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(LENGTH(value)), 0)`+where, store.CacheKind, before.UnixNano()).Scan(&n, &bytes); err != nil {
			return err
		}
		if dry || n == 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, `DELETE`+where, store.CacheKind, before.UnixNano())
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("prune cache: %w", err)
	}
	return n, bytes, nil
}

// SwapRecord implements store.Swapper in one statement, which SQLite runs
// under its write lock, so of processes swapping from the same value one
// wins.
func (s *Store) SwapRecord(ctx context.Context, kind, key string, old, value []byte) (bool, error) {
	ok, err := swapRecord(ctx, s.db, kind, key, old, value)
	if err != nil {
		return false, fmt.Errorf("swap record %s/%s: %w", kind, key, err)
	}
	return ok, nil
}

var _ store.FencedSwapper = (*Store)(nil)

// SwapRecordFenced implements store.FencedSwapper: the leases are read
// and the record swapped in one transaction, which holds the write lock
// from its start (_txlock=immediate), so no takeover comes in between.
func (s *Store) SwapRecordFenced(ctx context.Context, kind, key string, old, value []byte, fences ...store.Fence) (bool, error) {
	var ok bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := checkFences(ctx, tx, fences); err != nil {
			return err
		}
		var err error
		ok, err = swapRecord(ctx, tx, kind, key, old, value)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("swap record %s/%s: %w", kind, key, err)
	}
	return ok, nil
}

var _ store.LeaseRestorer = (*Store)(nil)

// RestoreLease implements store.LeaseRestorer: the token counter is read
// and the lease created in one transaction, which holds the write lock
// from its start (_txlock=immediate), so no claim comes in between.
func (s *Store) RestoreLease(ctx context.Context, kind, key string, value []byte, token uint64) (bool, error) {
	var ok bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var last []byte
		err := tx.QueryRowContext(ctx, `SELECT value FROM records WHERE kind=? AND key=?`, store.TokenKind, store.TokenKey).Scan(&last)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			n, err := store.ParseTokenCounter(last)
			if err != nil {
				return err
			}
			if n > token {
				return &store.LostError{Kind: kind, Key: key, Token: token}
			}
		}
		ok, err = createRecord(ctx, tx, kind, key, value)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("restore lease %s/%s: %w", kind, key, err)
	}
	return ok, nil
}

var _ store.FencedDeleter = (*Store)(nil)

// DeleteRecordFenced implements store.FencedDeleter: the leases are read
// and the record deleted in one transaction, which holds the write lock
// from its start (_txlock=immediate), so no takeover comes in between.
func (s *Store) DeleteRecordFenced(ctx context.Context, kind, key string, fences ...store.Fence) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := checkFences(ctx, tx, fences); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM records WHERE kind=? AND key=?`, kind, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete record %s/%s: %w", kind, key, err)
	}
	return nil
}

// checkFences returns a *store.LostError for the first of fences whose
// lease record in tx does not hold its token.
func checkFences(ctx context.Context, tx *sql.Tx, fences []store.Fence) error {
	for _, f := range fences {
		lease := &store.Record{Kind: f.Kind, Key: f.Key}
		err := tx.QueryRowContext(ctx, `SELECT value FROM records WHERE kind=? AND key=?`, f.Kind, f.Key).Scan(&lease.Value)
		if errors.Is(err, sql.ErrNoRows) {
			lease, err = nil, nil
		}
		if err != nil {
			return err
		}
		if err := f.Check(lease); err != nil {
			return err
		}
	}
	return nil
}

// swapRecord writes value to (kind, key) in db if its value is old (for
// a nil old, if there is none) and reports whether it did.
func swapRecord(ctx context.Context, db execer, kind, key string, old, value []byte) (bool, error) {
	if old == nil {
		return createRecord(ctx, db, kind, key, value)
	}
	if value == nil {
		value = []byte{}
	}
	res, err := db.ExecContext(ctx, `UPDATE records SET value=?, updated=? WHERE kind=? AND key=? AND CAST(value AS BLOB)=?`,
		value, time.Now().UnixNano(), kind, key, old)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

var _ store.RecordPager = (*Store)(nil)

// PageRecords implements store.RecordPager on the (kind, key) primary
// key, reading only the rows it returns.
func (s *Store) PageRecords(ctx context.Context, kind, from, to string, limit int, desc bool) ([]*store.Record, error) {
	order := "ASC"
	if desc {
		order = "DESC"
	}
	rows, err := s.db.QueryContext(ctx, `SELECT key, value, updated FROM records WHERE kind=? AND key>=? AND (?='' OR key<?)
		ORDER BY key `+order+` LIMIT ?`, kind, from, to, to, limit)
	if err != nil {
		return nil, fmt.Errorf("page records %s: %w", kind, err)
	}
	out, err := scanRecords(rows, kind)
	if err != nil {
		return nil, fmt.Errorf("page records %s: %w", kind, err)
	}
	return out, nil
}

var _ store.RecordCounter = (*Store)(nil)

// CountRecords implements store.RecordCounter on the (kind, key) primary
// key, reading no record.
func (s *Store) CountRecords(ctx context.Context, kind, from, to string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM records WHERE kind=? AND key>=? AND (?='' OR key<?)`, kind, from, to, to).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count records %s: %w", kind, err)
	}
	return n, nil
}
