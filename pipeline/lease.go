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

// claimRun takes run id's lease in c and keeps it renewed until the
// returned lease is released (see store.Claim). The lease is written
// before claimRun returns, so the run record written after it is never
// seen without one; a process already running id (a resume started
// while it runs) holds it, and the claim fails with store.ErrClaimed.
// The returned context is cancelled once the lease is lost to another
// process that took it over: the run stops rather than record over it.
func claimRun(ctx context.Context, c store.Claimer, id string, ttl time.Duration, log *slog.Logger) (context.Context, *store.Lease, error) {
	if ttl <= 0 {
		ttl = DefaultRunLease
	}
	return store.Claim(ctx, c, store.LeaseKind, id, ttl, log)
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
// The returned context is cancelled if the claim is lost (this process
// stalled past it and another took the study over); release ends the
// claim.
func claimStudy(ctx context.Context, st any, name string, ttl time.Duration, log *slog.Logger) (context.Context, func(), error) {
	c, ok := st.(store.Claimer)
	if !ok {
		return ctx, func() {}, nil
	}
	if ttl <= 0 {
		ttl = DefaultRunLease
	}
	waited := false
	for {
		lctx, l, err := store.Claim(ctx, c, store.ClaimKind, "study/"+name, ttl, log)
		if err == nil {
			return lctx, l.Release, nil
		}
		if !errors.Is(err, store.ErrClaimed) {
			return nil, nil, err
		}
		if !waited {
			log.Info("another process is tuning this study; waiting to resume it", "err", err)
			waited = true
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(ttl / 3): // the holder renews this often
		}
	}
}
