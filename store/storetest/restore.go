package storetest

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
)

// testRestoreLease: a renewal that finds its lease removed, with no token
// handed out since, writes it back; but a successor that takes the lease
// and releases it at the last moment the renewal leaves open before its
// write-back (just after the renewal read the token counter, or as the
// write-back starts) makes the renewal find the lease lost, and nothing
// is written. The counter's test and the write-back were two steps, and
// the stale holder wrote its lease back after the successor's release.
func testRestoreLease(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	a, b := open(), open()
	if _, ok := a.(store.LeaseRestorer); !ok {
		t.Fatalf("%T does not restore leases in one step (store.LeaseRestorer)", a)
	}
	log := slog.New(slog.DiscardHandler)
	var successor uint64
	w := &successorBetween{Claimer: a, successor: func() error {
		_, l, err := store.Claim(ctx, b, "job", "restored", time.Minute, log)
		if err != nil {
			return err
		}
		successor = l.Token
		l.Release()
		return nil
	}}
	lctx, l, err := store.Claim(ctx, w, "job", "restored", time.Minute, log)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if err := b.DeleteRecord(ctx, "job", "restored"); err != nil {
		t.Fatal(err)
	}
	w.armed = true
	err = l.Renew(ctx)
	if w.err != nil || successor == 0 {
		t.Fatalf("the successor did not take the lease during the renewal (token %d): %v", successor, w.err)
	}
	var lost *store.LostError
	if !errors.As(err, &lost) || lost.Token != l.Token || lost.Current != 0 {
		t.Errorf("Renew with a successor come and gone since its test = %v; want a *LostError of token %d, removed", err, l.Token)
	}
	if !errors.Is(context.Cause(lctx), store.ErrLeaseLost) {
		t.Errorf("stale holder's context cause %v; want the lost lease", context.Cause(lctx))
	}
	if r, err := b.GetRecord(ctx, "job", "restored"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("lease after the stale holder's renewal = %v, %v; want none", r, err)
	}

	// The rule itself: only below a newer token, only where there is none.
	v := []byte(time.Now().Add(time.Minute).UTC().Format(time.RFC3339Nano) + " 1")
	if ok, err := store.RestoreLease(ctx, a, "job", "q", v, successor-1); ok || !errors.As(err, &lost) {
		t.Errorf("RestoreLease under token %d with %d handed out = %v, %v; want a *LostError", successor-1, successor, ok, err)
	}
	if _, err := b.GetRecord(ctx, "job", "q"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("lease refused restoring = %v; want none", err)
	}
	for i, want := range []bool{true, false} {
		if ok, err := store.RestoreLease(ctx, a, "job", "q", v, successor); ok != want || err != nil {
			t.Errorf("RestoreLease %d under the last token = %v, %v; want %v", i+1, ok, err, want)
		}
	}
}

// successorBetween is a real store on which, once armed, a successor acts
// once at the first moment a renewal leaves open before its write-back:
// after it reads the token counter, or else as the write-back starts.
type successorBetween struct {
	store.Claimer
	successor func() error
	armed     bool
	err       error // the successor's
}

func (s *successorBetween) act() {
	if s.armed {
		s.armed = false
		s.err = s.successor()
	}
}

func (s *successorBetween) GetRecord(ctx context.Context, kind, key string) (*store.Record, error) {
	r, err := s.Claimer.GetRecord(ctx, kind, key)
	if kind == store.TokenKind {
		s.act()
	}
	return r, err
}

func (s *successorBetween) RestoreLease(ctx context.Context, kind, key string, value []byte, token uint64) (bool, error) {
	s.act()
	return store.RestoreLease(ctx, s.Claimer, kind, key, value, token)
}
