package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tabforge/tabforge/store"
)

var _ store.RecordSwapper = (*Store)(nil)

// SwapRecords implements store.RecordSwapper in one transaction, which
// holds the write lock from its start (_txlock=immediate): each record
// is read, tested and changed with no other writer in between.
func (s *Store) SwapRecords(ctx context.Context, swaps []store.RecordSwap) ([]int, error) {
	var refused []int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		refused = refused[:0]
		now := time.Now()
		for i, sw := range swaps {
			made, err := swapIn(ctx, tx, sw, now)
			if err != nil {
				return fmt.Errorf("record %s/%s: %w", sw.Record.Kind, sw.Record.Key, err)
			}
			if !made {
				refused = append(refused, i)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("swap %d records: %w", len(swaps), err)
	}
	return refused, nil
}

// swapIn makes sw in tx if its record holds what sw expects, written at
// now if it has no time of its own, and reports whether it did.
func swapIn(ctx context.Context, tx *sql.Tx, sw store.RecordSwap, now time.Time) (bool, error) {
	r := sw.Record
	if !sw.Blind {
		var cur []byte
		err := tx.QueryRowContext(ctx, `SELECT value FROM records WHERE kind=? AND key=?`, r.Kind, r.Key).Scan(&cur)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if sw.Old != nil {
				return false, nil
			}
		case err != nil:
			return false, err
		case sw.Old == nil || !bytes.Equal(cur, sw.Old):
			return false, nil
		}
	}
	if sw.Delete {
		_, err := tx.ExecContext(ctx, `DELETE FROM records WHERE kind=? AND key=?`, r.Kind, r.Key)
		return true, err
	}
	updated, v := r.Updated, r.Value
	if updated.IsZero() {
		updated = now
	}
	if v == nil {
		v = []byte{}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO records (kind, key, value, updated) VALUES (?,?,?,?)
		ON CONFLICT(kind, key) DO UPDATE SET value=excluded.value, updated=excluded.updated`, r.Kind, r.Key, v, updated.UnixNano())
	return true, err
}
