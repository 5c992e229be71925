package registry

import (
	"context"
	"errors"

	"github.com/tabforge/tabforge/store"
)

// ErrNoNotify reports a store that cannot announce changes (SQLite): the
// caller polls Plan instead.
var ErrNoNotify = errors.New("the store does not announce record changes; poll instead")

// recordNotifier is a store that announces changes to a kind's records
// (the Redis store, through keyspace notifications).
type recordNotifier interface {
	NotifyRecords(ctx context.Context, kind string) (<-chan struct{}, func() error, error)
}

// NameChanges returns a channel that receives a value soon after any
// name's record changes, from any process: a promotion, rollback, alias
// or route change. stop ends the subscription and closes the channel.
// A store that cannot announce changes gives ErrNoNotify; one that could
// but failed to subscribe (say, CONFIG SET refused) gives that error.
// Notifications can be lost (a dropped connection), so a caller should
// still poll, less often. A failover store is asked through its primary.
func (r *Registry) NameChanges(ctx context.Context) (changes <-chan struct{}, stop func() error, err error) {
	var rec any = r.rec
	if f, ok := rec.(interface{ Primary() store.Store }); ok && f.Primary() != nil {
		rec = f.Primary()
	}
	n, ok := rec.(recordNotifier)
	if !ok {
		return nil, nil, ErrNoNotify
	}
	return n.NotifyRecords(ctx, KindName)
}
