package failover

import (
	"context"

	"github.com/tabforge/tabforge/store"
)

// PageRecords implements store.RecordPager on the store in use.
func (s *Store) PageRecords(ctx context.Context, kind, from, to string, limit int, desc bool) ([]*store.Record, error) {
	return read(s, func(st store.Store) ([]*store.Record, error) {
		return store.PageRecords(ctx, st, kind, from, to, limit, desc)
	})
}

// GetRecords implements store.RecordGetter on the store in use.
func (s *Store) GetRecords(ctx context.Context, kind string, keys []string) ([]*store.Record, error) {
	return read(s, func(st store.Store) ([]*store.Record, error) { return st.GetRecords(ctx, kind, keys) })
}

var _ store.RecordCounter = (*Store)(nil)

// CountRecords implements store.RecordCounter on the store in use.
func (s *Store) CountRecords(ctx context.Context, kind, from, to string) (int, error) {
	return read(s, func(st store.Store) (int, error) { return store.CountRecords(ctx, st, kind, from, to) })
}
