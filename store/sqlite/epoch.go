package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// primaryEpochSchema keeps, for a failover store's fallback, the epoch
// of each primary it journals for (see PrimaryEpoch). Open creates it
// in every store, as it does the journal.
const primaryEpochSchema = `
CREATE TABLE IF NOT EXISTS primary_epochs (
	target TEXT PRIMARY KEY,
	epoch  TEXT NOT NULL
);`

// PrimaryEpoch returns the epoch of the primary target (see
// Pending.Target) that a failover store last found there, "" if none
// was recorded. A primary that lost its data since answers with another
// epoch, and the journal's bases, which describe the data it held, no
// longer apply there.
func (s *Store) PrimaryEpoch(ctx context.Context, target string) (string, error) {
	var epoch string
	err := s.db.QueryRowContext(ctx, `SELECT epoch FROM primary_epochs WHERE target = ?`, target).Scan(&epoch)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the epoch of %s: %w", target, err)
	}
	return epoch, nil
}

// SetPrimaryEpoch records epoch as the one found on the primary target.
func (s *Store) SetPrimaryEpoch(ctx context.Context, target, epoch string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO primary_epochs (target, epoch) VALUES (?, ?)
		ON CONFLICT(target) DO UPDATE SET epoch = excluded.epoch`, target, epoch)
	if err != nil {
		return fmt.Errorf("record the epoch of %s: %w", target, err)
	}
	return nil
}
