package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/tune"
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

var _ store.TrialSwapper = (*Store)(nil)

// SwapTrial implements store.TrialSwapper in one transaction, which
// holds the write lock from its start (_txlock=immediate): the trial is
// read, tested and written with no other writer in between.
func (s *Store) SwapTrial(ctx context.Context, study string, old *tune.FrozenTrial, t tune.FrozenTrial) (bool, error) {
	if ok, err := hasStudies(ctx, s.db); err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("study %q: %w", study, store.ErrNotFound)
		}
		return false, fmt.Errorf("swap trial %d of study %q: %w", t.Number, study, err)
	}
	var made bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		sid, err := studyID(ctx, tx, study)
		if err != nil {
			return err
		}
		cur, err := trialState(ctx, tx, sid, t.Number)
		if err != nil || !store.SameTrial(cur, old) {
			return err
		}
		made = true
		return putTrial(ctx, tx, sid, t)
	})
	if err != nil {
		return false, fmt.Errorf("swap trial %d of study %q: %w", t.Number, study, err)
	}
	return made, nil
}

// trialState returns the state, objective value and parameters of trial
// number n of study sid (what store.SameTrial compares), nil if there is
// none.
func trialState(ctx context.Context, tx *sql.Tx, sid int64, n int) (*tune.FrozenTrial, error) {
	t := tune.FrozenTrial{Number: n, Params: map[string]float64{}}
	var (
		state string
		value sql.NullFloat64
	)
	err := tx.QueryRowContext(ctx, `SELECT id, state, value FROM trials WHERE study_id = ? AND number = ?`, sid, n).
		Scan(&t.ID, &state, &value)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, err
	}
	t.State, t.Value = tune.State(state), fromNullable(value)
	err = queryRows(ctx, tx, `SELECT name, value FROM trial_params WHERE trial_id = ?`, t.ID, func(rows *sql.Rows) error {
		var (
			name string
			v    float64
		)
		if err := rows.Scan(&name, &v); err != nil {
			return err
		}
		t.Params[name] = v
		return nil
	})
	return &t, err
}
