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

// claimStudy makes this process the only one driving the tuning study
// name in st (tune.Study must be driven by one process at a time:
// opening it retries the trials left running, which, were another
// process still at work on them, failed its trials and its whole
// search). While another process holds the study it waits, logging once,
// and then resumes what that process recorded, so two runs of the same
// config at once neither run a trial twice nor lose one. Without a
// store that can claim (in-memory studies) there is nothing to share.
// The returned release ends the claim.
func claimStudy(ctx context.Context, st any, name string, ttl time.Duration, log *slog.Logger) (release func(), err error) {
	c, ok := st.(store.Claimer)
	if !ok {
		return func() {}, nil
	}
	if ttl <= 0 {
		ttl = DefaultRunLease
	}
	waited := false
	for {
		release, err := store.Claim(ctx, c, store.ClaimKind, "study/"+name, ttl, log)
		if !errors.Is(err, store.ErrClaimed) {
			return release, err
		}
		if !waited {
			log.Info("another process is tuning this study; waiting to resume it", "err", err)
			waited = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(ttl / 3): // the holder renews this often
		}
	}
}
