package storetest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
)

// testReleaseLease: a holder that stalled past its lease and releases it
// just as a successor takes it over (after the release read the lease,
// or as its delete starts) leaves the successor's lease in place. The
// release read the record and then deleted it, two steps, and deleted
// the successor's live lease.
func testReleaseLease(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	a, b := open(), open()
	if _, ok := a.(store.FencedDeleter); !ok {
		t.Fatalf("%T does not delete under a lease in one step (store.FencedDeleter)", a)
	}
	log := slog.New(slog.DiscardHandler)
	var successor *store.Lease
	w := &takeoverBetween{Claimer: a, kind: "job", key: "released", successor: func() error {
		// The holder stalls past its lease: the record reads as expired,
		// still with its token, and b takes it over.
		r, err := b.GetRecord(ctx, "job", "released")
		if err != nil {
			return err
		}
		past := time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)
		if err := b.PutRecord(ctx, "job", "released", fmt.Appendf(nil, "%s %d", past, store.LeaseToken(r))); err != nil {
			return err
		}
		_, successor, err = store.Claim(ctx, b, "job", "released", time.Minute, log)
		return err
	}}
	_, l, err := store.Claim(ctx, w, "job", "released", time.Minute, log)
	if err != nil {
		t.Fatal(err)
	}
	w.armed = true
	l.Release()
	if w.err != nil || successor == nil {
		t.Fatalf("the successor did not take the lease during the release: %v", w.err)
	}
	defer successor.Release()
	if r, err := b.GetRecord(ctx, "job", "released"); err != nil || store.LeaseToken(r) != successor.Token {
		t.Errorf("lease after the stale holder's release = %v, %v; want the successor's, token %d", r, err, successor.Token)
	}
	if err := successor.Renew(ctx); err != nil {
		t.Errorf("successor's Renew after the stale holder's release = %v; want it still held", err)
	}

	// The rule itself: deleted only while the lease holds the fence's token.
	var lost *store.LostError
	stale := store.Fence{Kind: "job", Key: "released", Token: l.Token}
	if err := store.DeleteRecordFenced(ctx, a, "job", "released", stale); !errors.As(err, &lost) || lost.Current != successor.Token {
		t.Errorf("DeleteRecordFenced under token %d of a lease holding %d = %v; want a *LostError naming %d", l.Token, successor.Token, err, successor.Token)
	}
	if err := store.DeleteRecordFenced(ctx, a, "job", "released", successor.Fence()); err != nil {
		t.Errorf("DeleteRecordFenced under the lease's own token = %v", err)
	}
	if r, err := b.GetRecord(ctx, "job", "released"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("lease deleted under its own token = %v, %v; want none", r, err)
	}
	if err := store.DeleteRecordFenced(ctx, a, "job", "released", successor.Fence()); !errors.As(err, &lost) || lost.Current != 0 {
		t.Errorf("DeleteRecordFenced of a missing lease = %v; want a *LostError, removed", err)
	}
}

// takeoverBetween is a real store on which, once armed, a successor acts
// once at the first moment a release leaves open before its delete:
// after it reads the lease kind/key, or else as the delete starts.
type takeoverBetween struct {
	store.Claimer
	kind, key string
	successor func() error
	armed     bool
	err       error // the successor's
}

func (s *takeoverBetween) act() {
	if s.armed {
		s.armed = false
		s.err = s.successor()
	}
}

func (s *takeoverBetween) GetRecord(ctx context.Context, kind, key string) (*store.Record, error) {
	r, err := s.Claimer.GetRecord(ctx, kind, key)
	if kind == s.kind && key == s.key {
		s.act()
	}
	return r, err
}

func (s *takeoverBetween) DeleteRecordFenced(ctx context.Context, kind, key string, fences ...store.Fence) error {
	s.act()
	return store.DeleteRecordFenced(ctx, s.Claimer, kind, key, fences...)
}
