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
// is called, which deletes the lease. The first lease is written before
// holdLease returns, so the run record written after it is never seen
// without one. Renewal failures are logged, not fatal: a run must not fail
// because its liveness could not be advertised.
func holdLease(ctx context.Context, recs store.Records, id string, ttl time.Duration, log *slog.Logger) (stop func()) {
	if ttl <= 0 {
		ttl = DefaultRunLease
	}
	ctx = context.WithoutCancel(ctx)
	renew := func() {
		until := time.Now().Add(ttl).UTC().Format(time.RFC3339Nano)
		if err := recs.PutRecord(ctx, store.LeaseKind, id, []byte(until)); err != nil {
			log.Warn("run lease not renewed", "err", err)
		}
	}
	renew()
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(ttl / 3)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				renew()
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		if err := recs.DeleteRecord(ctx, store.LeaseKind, id); err != nil {
			log.Warn("run lease not released", "err", err)
		}
	}
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
	until, err := time.Parse(time.RFC3339Nano, string(rec.Value))
	if err != nil || now.After(until) {
		return store.Interrupted, nil
	}
	return store.Running, nil
}
