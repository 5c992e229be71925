package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/tune"
)

// querier is what the read queries need: the database, or one
// transaction of it.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Snapshot implements store.Store in one read transaction. It begins
// deferred (a read-only TxOptions overrides the connection's _txlock), so
// it takes no write lock and writers go on; in WAL mode its first read
// fixes the state every later read of it sees.
func (s *Store) Snapshot(ctx context.Context, f func(store.View) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("read store %s: %w", s.path, err)
	}
	defer tx.Rollback() // it wrote nothing: rolling back ends it as well as committing
	return f(view{tx})
}

// view reads through one transaction.
type view struct{ tx *sql.Tx }

func (v view) ListRuns(ctx context.Context, limit int) ([]*store.Run, error) {
	return listRuns(ctx, v.tx, limit)
}

func (v view) Kinds(ctx context.Context) ([]string, error) { return kinds(ctx, v.tx) }

func (v view) ListRecords(ctx context.Context, kind, prefix string) ([]*store.Record, error) {
	return listRecords(ctx, v.tx, kind, prefix)
}

func (v view) ListStudies(ctx context.Context) ([]store.Study, error) {
	return listStudies(ctx, v.tx)
}

func (v view) Trials(ctx context.Context, studyID int64) ([]tune.FrozenTrial, error) {
	out, err := trials(ctx, v.tx, studyID)
	if err != nil {
		return nil, fmt.Errorf("list trials: %w", err)
	}
	return out, nil
}
