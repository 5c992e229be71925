package store

import (
	"context"
	"errors"
	"fmt"
)

// A Fence names the acquisition of a lease that a write is made under
// (see Claim): the write is to take effect only while the lease record
// Kind/Key still holds Token. A holder that stalled past its lease finds
// it lost at its next renewal, but a write it makes before then, say
// the outcome of a run its successor took over, would land over the
// successor's; a fenced write is refused instead.
type Fence struct {
	Kind, Key string
	Token     uint64
}

// Fence returns the fence of l's acquisition.
func (l *Lease) Fence() Fence { return Fence{Kind: l.kind, Key: l.key, Token: l.Token} }

// Check returns nil if the lease record r (nil: missing) holds f.Token,
// else a *LostError.
func (f Fence) Check(r *Record) error {
	var cur uint64
	if r != nil {
		if cur = LeaseToken(r); cur == f.Token {
			return nil
		}
	}
	return &LostError{Kind: f.Kind, Key: f.Key, Token: f.Token, Current: cur}
}

// A FencedRunWriter is a store that writes a run under a lease.
type FencedRunWriter interface {
	// PutRunFenced is PutRun made only if the lease record f.Kind/f.Key
	// holds f.Token, the test and the write one atomic step; otherwise
	// it writes nothing and returns a *LostError (Current 0 for a
	// missing lease).
	PutRunFenced(ctx context.Context, r *Run, f Fence) error
}

// PutRunFenced is s's PutRunFenced if s is a FencedRunWriter. Otherwise
// it checks the lease first if s holds records, then writes: a narrower
// window for a stale holder, not none.
func PutRunFenced(ctx context.Context, s Runs, r *Run, f Fence) error {
	if w, ok := s.(FencedRunWriter); ok {
		return w.PutRunFenced(ctx, r, f)
	}
	if recs, ok := s.(Records); ok {
		rec, err := recs.GetRecord(ctx, f.Kind, f.Key)
		if errors.Is(err, ErrNotFound) {
			rec, err = nil, nil
		}
		if err != nil {
			return fmt.Errorf("store run %s: %w", r.ID, err)
		}
		if err := f.Check(rec); err != nil {
			return fmt.Errorf("store run %s: %w", r.ID, err)
		}
	}
	return s.PutRun(ctx, r)
}

// A FencedSwapper is a store that swaps a record under leases.
type FencedSwapper interface {
	// SwapRecordFenced is SwapRecord (a nil old creates the record) made
	// only if each lease record fences[i].Kind/Key holds its Token, the
	// tests and the swap one atomic step; otherwise it writes nothing and
	// returns a *LostError for the first lease that does not (Current 0
	// for a missing one).
	SwapRecordFenced(ctx context.Context, kind, key string, old, value []byte, fences ...Fence) (bool, error)
}

// SwapRecordFenced is s's SwapRecordFenced if s is a FencedSwapper.
// Otherwise it checks the leases first, then swaps: a narrower window
// for a stale holder, not none.
func SwapRecordFenced(ctx context.Context, s Swapper, kind, key string, old, value []byte, fences ...Fence) (bool, error) {
	if w, ok := s.(FencedSwapper); ok {
		return w.SwapRecordFenced(ctx, kind, key, old, value, fences...)
	}
	if err := checkFences(ctx, s, fences); err != nil {
		return false, fmt.Errorf("swap record %s/%s: %w", kind, key, err)
	}
	return s.SwapRecord(ctx, kind, key, old, value)
}

// PutRecordFenced is PutRecord made only while each lease of fences
// holds its token: a read of the record and a SwapRecordFenced over it,
// again while other writers change it in between.
func PutRecordFenced(ctx context.Context, s Swapper, kind, key string, value []byte, fences ...Fence) error {
	for {
		var old []byte
		switch r, err := s.GetRecord(ctx, kind, key); {
		case err == nil:
			old = SwapOld(r)
		case !errors.Is(err, ErrNotFound):
			return fmt.Errorf("store record %s/%s: %w", kind, key, err)
		}
		ok, err := SwapRecordFenced(ctx, s, kind, key, old, value, fences...)
		if err != nil || ok {
			return err
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("store record %s/%s: %w", kind, key, err)
		}
	}
}

// A FencedDeleter is a store that deletes a record under leases.
type FencedDeleter interface {
	// DeleteRecordFenced is DeleteRecord made only if each lease record
	// fences[i].Kind/Key holds its Token, the tests and the delete one
	// atomic step; otherwise it deletes nothing and returns a *LostError
	// for the first lease that does not (Current 0 for a missing one).
	// A lease deleted under its own fence is released: only while it is
	// still its holder's (see Lease.Release).
	DeleteRecordFenced(ctx context.Context, kind, key string, fences ...Fence) error
}

// DeleteRecordFenced is s's DeleteRecordFenced if s is a FencedDeleter.
// Otherwise it checks the leases first, then deletes: two steps, between
// which a successor may take a lease over, and a lease deleted under its
// own fence is then the successor's.
func DeleteRecordFenced(ctx context.Context, s Records, kind, key string, fences ...Fence) error {
	if d, ok := s.(FencedDeleter); ok {
		return d.DeleteRecordFenced(ctx, kind, key, fences...)
	}
	if err := checkFences(ctx, s, fences); err != nil {
		return fmt.Errorf("delete record %s/%s: %w", kind, key, err)
	}
	return s.DeleteRecord(ctx, kind, key)
}

// checkFences reads each lease of fences from s and returns the
// *LostError of the first that does not hold its token.
func checkFences(ctx context.Context, s Records, fences []Fence) error {
	for _, f := range fences {
		rec, err := s.GetRecord(ctx, f.Kind, f.Key)
		if errors.Is(err, ErrNotFound) {
			rec, err = nil, nil
		}
		if err == nil {
			err = f.Check(rec)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
