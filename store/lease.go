package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A lease is a record whose value is the RFC 3339 time until which the
// process holding it vouches that it is alive and at work, followed by
// the fencing token of the acquisition that wrote it. The holder renews
// it well before then, so a lease that expired was held by a process
// that died or stalled. Runs (LeaseKind), tuning studies and watched
// data files use them.
//
// A holder can stall past its lease (a GC pause, SIGSTOP, a swapped-out
// machine) while another process takes the lease over. Every renewal is
// therefore a swap over the value the holder last wrote, and a record
// holding another acquisition's token means the lease is lost: Renew
// returns a *LostError and the holder's context is cancelled, so the
// stale holder stops instead of working on beside its successor.

// ErrClaimed reports a lease that another process holds.
var ErrClaimed = errors.New("held by another process")

// ErrLeaseLost reports a lease its holder no longer holds. Errors
// wrapping it are *LostError.
var ErrLeaseLost = errors.New("lease lost")

// LostError reports that the holder of the lease Kind/Key, acquired with
// fencing token Token, no longer holds it: it expired while the holder
// stalled and the acquisition with token Current took it over, or
// (Current 0) it was removed.
type LostError struct {
	Kind, Key string
	Token     uint64
	Current   uint64
}

func (e *LostError) Error() string {
	if e.Current == 0 {
		return fmt.Sprintf("lease %s/%s (token %d) lost: removed by another process", e.Kind, e.Key, e.Token)
	}
	return fmt.Sprintf("lease %s/%s (token %d) lost: it expired and token %d took it over", e.Kind, e.Key, e.Token, e.Current)
}

// Unwrap returns ErrLeaseLost.
func (e *LostError) Unwrap() error { return ErrLeaseLost }

// TokenKind and TokenKey name the record of the last fencing token
// handed out: one counter for every lease in the store, so tokens
// increase across acquisitions even of a lease released (deleted) in
// between.
const (
	TokenKind = "lease.token"
	TokenKey  = "last"
)

// LeaseUntil returns the time a lease record vouches for; false when its
// value is not a lease.
func LeaseUntil(r *Record) (time.Time, bool) {
	until, _, ok := parseLease(r.Value)
	return until, ok
}

// LeaseToken returns the fencing token of a lease record: 0 for a value
// written before leases had tokens, or one that is not a lease.
func LeaseToken(r *Record) uint64 {
	_, tok, _ := parseLease(r.Value)
	return tok
}

func parseLease(v []byte) (until time.Time, token uint64, ok bool) {
	ts, tok, _ := strings.Cut(string(v), " ")
	until, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return time.Time{}, 0, false
	}
	token, _ = strconv.ParseUint(tok, 10, 64)
	return until, token, true
}

func leaseValue(ttl time.Duration, token uint64) []byte {
	return fmt.Appendf(nil, "%s %d", time.Now().Add(ttl).UTC().Format(time.RFC3339Nano), token)
}

// DefaultLease is the ttl of Claim when its own is not positive.
const DefaultLease = 15 * time.Second

// nextToken increments the store's token counter by read and swap,
// retrying while other acquisitions change it, and returns the new value.
func nextToken(ctx context.Context, s Swapper) (uint64, error) {
	for {
		var old []byte
		var n uint64
		r, err := s.GetRecord(ctx, TokenKind, TokenKey)
		switch {
		case err == nil:
			old = r.Value
			if n, err = ParseTokenCounter(r.Value); err != nil {
				return 0, err
			}
		case !errors.Is(err, ErrNotFound):
			return 0, fmt.Errorf("lease token: %w", err)
		}
		ok, err := s.SwapRecord(ctx, TokenKind, TokenKey, old, strconv.AppendUint(nil, n+1, 10))
		if err != nil {
			return 0, fmt.Errorf("lease token: %w", err)
		}
		if ok {
			return n + 1, nil
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
	}
}

// LastToken returns the last fencing token s handed out: 0 if none.
func LastToken(ctx context.Context, s Records) (uint64, error) {
	r, err := s.GetRecord(ctx, TokenKind, TokenKey)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("lease token: %w", err)
	}
	return ParseTokenCounter(r.Value)
}

// ParseTokenCounter reads the value of the token counter record
// (TokenKind, TokenKey): the last token handed out, in decimal.
func ParseTokenCounter(v []byte) (uint64, error) {
	n, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("lease token counter %s/%s: %w", TokenKind, TokenKey, err)
	}
	return n, nil
}

// A LeaseRestorer is a store that writes a missing lease back in one
// atomic step (see Lease.Renew).
type LeaseRestorer interface {
	// RestoreLease creates the lease record kind/key with value, which
	// holds token, if there is no such record and the store has handed
	// out no token greater than token (TokenKind); the tests and the
	// create are one atomic step. It reports whether it created the
	// record. A greater token refuses it with a *LostError (Current 0),
	// and nothing is written.
	RestoreLease(ctx context.Context, kind, key string, value []byte, token uint64) (bool, error)
}

// RestoreLease is s's RestoreLease if s is a LeaseRestorer. Otherwise it
// reads the token counter, then creates the record: two steps, between
// which a successor may take and release the lease.
func RestoreLease(ctx context.Context, s Swapper, kind, key string, value []byte, token uint64) (bool, error) {
	if r, ok := s.(LeaseRestorer); ok {
		return r.RestoreLease(ctx, kind, key, value, token)
	}
	last, err := LastToken(ctx, s)
	if err != nil {
		return false, err
	}
	if last > token {
		return false, &LostError{Kind: kind, Key: key, Token: token}
	}
	return s.SwapRecord(ctx, kind, key, nil, value)
}

// AdvanceTokens raises s's token counter to n if it is lower, so that
// every token s hands out from then on is greater than n: the step that
// keeps the tokens of two stores a failover store switches between
// (store/failover) from repeating each other's.
func AdvanceTokens(ctx context.Context, s Swapper, n uint64) error {
	for {
		r, err := s.GetRecord(ctx, TokenKind, TokenKey)
		var old []byte
		switch {
		case err == nil:
			old = r.Value
			cur, err := ParseTokenCounter(r.Value)
			if err != nil {
				return err
			}
			if cur >= n {
				return nil
			}
		case !errors.Is(err, ErrNotFound):
			return fmt.Errorf("advance lease tokens: %w", err)
		}
		ok, err := s.SwapRecord(ctx, TokenKind, TokenKey, old, strconv.AppendUint(nil, n, 10))
		if err != nil || ok {
			if err != nil {
				return fmt.Errorf("advance lease tokens: %w", err)
			}
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// Claim takes the lease kind/key for this process, valid for ttl
// (DefaultLease if not positive), unless a live lease is already there:
// then it returns an error wrapping ErrClaimed. Creating the lease is
// atomic (of processes claiming at once, one wins); a lease that
// expired, left by a process that died or stalled, is taken over by a
// swap over the value read: of two processes finding the same expired
// lease, one takes it and the other finds it claimed.
//
// The lease is renewed every third of ttl until Release. The returned
// context, derived from ctx, is cancelled with the *LostError as its
// cause (context.Cause) once a renewal finds the lease taken over; the
// holder does its work under it. Renewal errors of the store itself are
// logged and retried: a holder that cannot reach the store is not
// stopped by that alone, and a successor's takeover meanwhile is found
// by the next renewal that reaches it.
func Claim(ctx context.Context, c Claimer, kind, key string, ttl time.Duration, log *slog.Logger) (context.Context, *Lease, error) {
	if ttl <= 0 {
		ttl = DefaultLease
	}
	// A live lease is refused before a token is spent on it, so that
	// waiting for a lease does not run up the counter.
	if r, err := c.GetRecord(ctx, kind, key); err == nil {
		if err := checkExpired(r); err != nil {
			return nil, nil, fmt.Errorf("%s %s: %w", kind, key, err)
		}
	} else if !errors.Is(err, ErrNotFound) {
		return nil, nil, err
	}
	tok, err := nextToken(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	v := leaseValue(ttl, tok)
	created, err := c.CreateRecord(ctx, kind, key, v)
	if err != nil {
		return nil, nil, err
	}
	if !created {
		if err := takeOver(ctx, c, kind, key, v, log); err != nil {
			return nil, nil, err
		}
	}
	l := &Lease{Token: tok, recs: c, kind: kind, key: key, ttl: ttl, log: log, last: v,
		stop: make(chan struct{}), finished: make(chan struct{})}
	lctx, cancel := context.WithCancelCause(ctx)
	l.cancel = cancel
	go l.renewEvery(ttl / 3)
	return lctx, l, nil
}

// takeOver writes v over the lease kind/key if it expired, or creates it
// if it was released since it was found.
func takeOver(ctx context.Context, c Claimer, kind, key string, v []byte, log *slog.Logger) error {
	r, err := c.GetRecord(ctx, kind, key)
	switch {
	case errors.Is(err, ErrNotFound):
		// Released since: try once more.
		created, err := c.CreateRecord(ctx, kind, key, v)
		if err != nil {
			return err
		}
		if !created {
			return fmt.Errorf("%s %s: %w", kind, key, ErrClaimed)
		}
		return nil
	case err != nil:
		return err
	}
	if err := checkExpired(r); err != nil {
		return fmt.Errorf("%s %s: %w", kind, key, err)
	}
	took, err := c.SwapRecord(ctx, kind, key, r.Value, v)
	if err != nil {
		return err
	}
	if !took {
		return fmt.Errorf("%s %s: %w (an expired lease taken over by another process)", kind, key, ErrClaimed)
	}
	log.Info("taking over an expired lease", "kind", kind, "key", key, "token", LeaseToken(r))
	return nil
}

// checkExpired returns an error wrapping ErrClaimed for a live lease.
func checkExpired(r *Record) error {
	if until, ok := LeaseUntil(r); ok && time.Now().Before(until) {
		return fmt.Errorf("%w until %s", ErrClaimed, until.Format(time.RFC3339))
	}
	return nil
}

// A Lease is one acquisition of a lease record (see Claim). Its methods
// are safe for concurrent use.
type Lease struct {
	// Token is this acquisition's fencing token: greater than that of
	// every earlier acquisition of any lease in the store.
	Token uint64

	recs      Swapper
	kind, key string
	ttl       time.Duration
	log       *slog.Logger
	cancel    context.CancelCauseFunc

	mu   sync.Mutex
	last []byte // the value this holder last wrote
	lost error  // the *LostError once a renewal found the lease lost

	stop, finished chan struct{}
	once           sync.Once
}

func (l *Lease) renewEvery(d time.Duration) {
	defer close(l.finished)
	tick := time.NewTicker(d)
	defer tick.Stop()
	ctx := context.Background() // the holder's context ends with the lease, not the other way round
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
			err := l.Renew(ctx)
			if errors.Is(err, ErrLeaseLost) {
				l.log.Error("lease lost; stopping the work it covered", "kind", l.kind, "key", l.key, "err", err)
				return
			}
			if err != nil {
				l.log.Warn("lease not renewed", "kind", l.kind, "key", l.key, "err", err)
			}
		}
	}
}

// Renew extends the lease by its ttl from now. It fails with a
// *LostError (and cancels the holder's context) when the lease no longer
// holds this acquisition's token, and with the store's error when the
// store could not be asked, after which the lease may still be held.
func (l *Lease) Renew(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost != nil {
		return l.lost
	}
	v := leaseValue(l.ttl, l.Token)
	// Twice at most: a renewal reported failed may still have written
	// its value, which then holds this token and is the one to swap over.
	for range 2 {
		ok, err := l.recs.SwapRecord(ctx, l.kind, l.key, l.last, v)
		if err != nil {
			return fmt.Errorf("renew lease %s/%s: %w", l.kind, l.key, err)
		}
		if ok {
			l.last = v
			return nil
		}
		r, err := l.recs.GetRecord(ctx, l.kind, l.key)
		switch {
		case errors.Is(err, ErrNotFound):
			// Gone: the fallback of a failover store that never saw it
			// (the primary is down), a sweep of expired leases, or a
			// successor that took it over, finished and released it.
			// The record keeps no trace of the last, but the token
			// counter does: tokens handed out since this acquisition
			// mean a successor may have come and gone, and the lease
			// is lost. The counter is one for every lease in the store,
			// so a claim of another lease reads the same; a holder
			// whose lease was removed then stops, the safe side.
			// Otherwise nobody holds it, and the holder writes it back.
			// The test and the write are one step (RestoreLease): a
			// successor that took and released the lease between them
			// would find its lease written back by a stale holder.
			ok, err := RestoreLease(ctx, l.recs, l.kind, l.key, v, l.Token)
			if errors.Is(err, ErrLeaseLost) {
				return l.lose(0)
			}
			if err != nil {
				return fmt.Errorf("renew lease %s/%s: %w", l.kind, l.key, err)
			}
			if ok {
				l.last = v
				return nil
			}
			continue // a claim raced in and created it: the next round finds its token
		case err != nil:
			return fmt.Errorf("renew lease %s/%s: %w", l.kind, l.key, err)
		}
		if tok := LeaseToken(r); tok != l.Token {
			return l.lose(tok)
		}
		l.last = r.Value
	}
	return fmt.Errorf("renew lease %s/%s: its value keeps changing under the same token", l.kind, l.key)
}

// lose records the lease as lost to the acquisition with token current
// and cancels the holder's context; l.mu is held.
func (l *Lease) lose(current uint64) error {
	l.lost = &LostError{Kind: l.kind, Key: l.key, Token: l.Token, Current: current}
	l.cancel(l.lost)
	return l.lost
}

// Lost returns the *LostError once a renewal found the lease lost, else
// nil.
func (l *Lease) Lost() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

// Release stops the renewals, deletes the lease unless another
// acquisition holds it now (the test and the delete are one step on a
// FencedDeleter), and cancels the holder's context. Calling it again
// does nothing.
func (l *Lease) Release() {
	l.once.Do(func() {
		close(l.stop)
		<-l.finished
		defer l.cancel(context.Canceled)
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.lost != nil {
			return
		}
		// Deleted under the lease's own fence, which compares tokens, not
		// values (a renewal reported failed may have written a value this
		// holder never saw), and tests and deletes in one step: a
		// successor may take the lease over at any moment once it expired
		// while this holder stalled, and its lease must stay.
		err := DeleteRecordFenced(context.Background(), l.recs, l.kind, l.key, l.Fence())
		if err != nil && !errors.Is(err, ErrLeaseLost) { // lost: gone, or the new holder's
			l.log.Warn("lease not released", "kind", l.kind, "key", l.key, "err", err)
		}
	})
}
