package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// A lease is a record whose value is the RFC 3339 time until which the
// process holding it vouches that it is alive and at work; the holder
// renews it well before then, so a lease that expired was held by a
// process that died. Runs (LeaseKind) and watched data files use them.

// ErrClaimed reports a lease that another process holds.
var ErrClaimed = errors.New("held by another process")

// LeaseUntil returns the time a lease record vouches for; false when its
// value is not a time.
func LeaseUntil(r *Record) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, string(r.Value))
	return t, err == nil
}

// DefaultLease is the ttl of HoldLease and Claim when theirs is not
// positive.
const DefaultLease = 15 * time.Second

// HoldLease writes the lease kind/key, valid for ttl (DefaultLease if not
// positive), and renews it every third of ttl until the returned release
// is called, which deletes it unless another process has taken it over
// since (its value is no longer this holder's last). The first write is
// done when HoldLease returns. Renewal failures are logged, not returned:
// the work must not fail because its liveness could not be advertised.
func HoldLease(ctx context.Context, recs Records, kind, key string, ttl time.Duration, log *slog.Logger) (release func()) {
	if ttl <= 0 {
		ttl = DefaultLease
	}
	ctx = context.WithoutCancel(ctx)
	// last is written by the first renewal, then only by the renewing
	// goroutine, and read by release after that goroutine has ended.
	var last []byte
	renew := func() {
		v := leaseValue(ttl)
		if err := recs.PutRecord(ctx, kind, key, v); err != nil {
			log.Warn("lease not renewed", "kind", kind, "key", key, "err", err)
			return
		}
		last = v
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
		if r, err := recs.GetRecord(ctx, kind, key); err == nil && !bytes.Equal(r.Value, last) {
			return // taken over after it expired: the lease is the new holder's
		}
		if err := recs.DeleteRecord(ctx, kind, key); err != nil {
			log.Warn("lease not released", "kind", kind, "key", key, "err", err)
		}
	}
}

// Claim takes the lease kind/key for this process and holds it as
// HoldLease does, unless a live lease is already there: then it returns
// an error wrapping ErrClaimed. Creating the lease is atomic (of
// processes claiming at once, one wins); a lease that expired, left by a
// process that died, is taken over by a swap over the value read: of two
// processes finding the same expired lease, one takes it and the other
// finds it claimed.
func Claim(ctx context.Context, c Claimer, kind, key string, ttl time.Duration, log *slog.Logger) (release func(), err error) {
	if ttl <= 0 {
		ttl = DefaultLease
	}
	created, err := c.CreateRecord(ctx, kind, key, leaseValue(ttl))
	if err != nil {
		return nil, err
	}
	if !created {
		r, err := c.GetRecord(ctx, kind, key)
		switch {
		case errors.Is(err, ErrNotFound):
			// Released since: try once more.
			if created, err = c.CreateRecord(ctx, kind, key, leaseValue(ttl)); err != nil {
				return nil, err
			}
			if !created {
				return nil, fmt.Errorf("%s %s: %w", kind, key, ErrClaimed)
			}
		case err != nil:
			return nil, err
		default:
			if until, ok := LeaseUntil(r); ok && time.Now().Before(until) {
				return nil, fmt.Errorf("%s %s: %w until %s", kind, key, ErrClaimed, until.Format(time.RFC3339))
			}
			took, err := c.SwapRecord(ctx, kind, key, r.Value, leaseValue(ttl))
			if err != nil {
				return nil, err
			}
			if !took {
				return nil, fmt.Errorf("%s %s: %w (an expired lease taken over by another process)", kind, key, ErrClaimed)
			}
			log.Info("taking over an expired lease", "kind", kind, "key", key)
		}
	}
	return HoldLease(ctx, c, kind, key, ttl, log), nil
}

func leaseValue(ttl time.Duration) []byte {
	return []byte(time.Now().Add(ttl).UTC().Format(time.RFC3339Nano))
}
