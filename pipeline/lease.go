package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/tabforge/tabforge/store"
)

// DefaultRunLease is how long a running run's lease lasts; the training
// process renews it every third of that, so a killed run reads as
// interrupted at most this long after its death.
const DefaultRunLease = 15 * time.Second

// holdLease keeps run id's lease in recs renewed until the returned stop
// is called (see store.HoldLease). The first lease is written before
// holdLease returns, so the run record written after it is never seen
// without one.
func holdLease(ctx context.Context, recs store.Records, id string, ttl time.Duration, log *slog.Logger) (stop func()) {
	if ttl <= 0 {
		ttl = DefaultRunLease
	}
	return store.HoldLease(ctx, recs, store.LeaseKind, id, ttl, log)
}

// RunStatus is r's status as a reader should show it: a run recorded as
// running whose lease in recs has expired, or was never written, is
// Interrupted; any other status is r.Status.
func RunStatus(ctx context.Context, recs store.Records, r *store.Run, now time.Time) (store.Status, error) {
	if r.Status != store.Running || recs == nil {
		return r.Status, nil
	}
	rec, err := recs.GetRecord(ctx, store.LeaseKind, r.ID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Interrupted, nil
	}
	if err != nil {
		return r.Status, err
	}
	if until, ok := store.LeaseUntil(rec); !ok || now.After(until) {
		return store.Interrupted, nil
	}
	return store.Running, nil
}
