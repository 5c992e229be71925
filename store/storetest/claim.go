package storetest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
)

// testCreateRecord: processes creating the same records at once through
// two handles each win a record exactly once, and the record keeps the
// winner's value.
func testCreateRecord(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	handles := []store.Store{open(), open()}
	const keys, perHandle = 20, 3
	var mu sync.Mutex
	winners := map[string][]string{}
	var wg sync.WaitGroup
	for h, s := range handles {
		for g := range perHandle {
			wg.Add(1)
			go func() {
				defer wg.Done()
				me := fmt.Sprintf("h%d-g%d", h, g)
				for k := range keys {
					key := fmt.Sprintf("k%02d", k)
					ok, err := s.CreateRecord(ctx, "claim", key, []byte(me))
					if err != nil {
						t.Error(err)
						return
					}
					if ok {
						mu.Lock()
						winners[key] = append(winners[key], me)
						mu.Unlock()
					}
				}
			}()
		}
	}
	wg.Wait()
	for k := range keys {
		key := fmt.Sprintf("k%02d", k)
		if len(winners[key]) != 1 {
			t.Errorf("%s created by %v; want exactly one creator", key, winners[key])
			continue
		}
		r, err := handles[1].GetRecord(ctx, "claim", key)
		if err != nil || string(r.Value) != winners[key][0] {
			t.Errorf("%s = %v, %v; want the creator's value %s", key, r, err, winners[key][0])
		}
	}
	if recs, err := handles[0].ListRecords(ctx, "claim", ""); err != nil || len(recs) != keys {
		t.Errorf("listed %d created records, %v; want %d", len(recs), err, keys)
	}
	kinds, err := handles[0].Kinds(ctx)
	if err != nil || !slices.Contains(kinds, "claim") {
		t.Errorf("Kinds = %v, %v; want claim among them", kinds, err)
	}
	if err := handles[0].DeleteRecord(ctx, "claim", "k00"); err != nil {
		t.Fatal(err)
	}
	if ok, err := handles[1].CreateRecord(ctx, "claim", "k00", []byte("again")); err != nil || !ok {
		t.Errorf("create after delete = %v, %v; want created", ok, err)
	}
}

// testClaim: a lease is held by one claimant at a time, is free again
// once released, and an expired one (its holder died) is taken over.
func testClaim(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	a, b := open(), open()
	log := slog.New(slog.DiscardHandler)
	_, l, err := store.Claim(ctx, a, "job", "x", time.Minute, log)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.Claim(ctx, b, "job", "x", time.Minute, log); !errors.Is(err, store.ErrClaimed) {
		t.Errorf("second claim: %v; want ErrClaimed", err)
	}
	l.Release()
	if _, err := b.GetRecord(ctx, "job", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("lease after release: %v; want it deleted", err)
	}
	_, lb, err := store.Claim(ctx, b, "job", "x", time.Minute, log)
	if err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	lb.Release()
	// A holder that died leaves a lease that expired.
	past := time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)
	if err := a.PutRecord(ctx, "job", "y", []byte(past)); err != nil {
		t.Fatal(err)
	}
	_, ly, err := store.Claim(ctx, b, "job", "y", time.Minute, log)
	if err != nil {
		t.Fatalf("claim of an expired lease: %v", err)
	}
	r, err := a.GetRecord(ctx, "job", "y")
	if err != nil {
		t.Fatal(err)
	}
	if until, ok := store.LeaseUntil(r); !ok || !until.After(time.Now()) {
		t.Errorf("taken-over lease = %s; want renewed into the future", r.Value)
	}
	ly.Release()
	// Of several processes finding the same expired lease at once, one
	// takes it over; all of them used to.
	if err := a.PutRecord(ctx, "job", "w", []byte(past)); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var leases []*store.Lease
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			h := a
			if i%2 == 1 {
				h = b
			}
			_, l, err := store.Claim(ctx, h, "job", "w", time.Minute, log)
			if err != nil && !errors.Is(err, store.ErrClaimed) {
				t.Error(err)
			}
			if err == nil {
				mu.Lock()
				leases = append(leases, l)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(leases) != 1 {
		t.Errorf("%d of 8 processes took over one expired lease; want 1", len(leases))
	}
	for _, l := range leases {
		l.Release()
	}
}

// testLeaseFencing: every acquisition gets a greater token, even of a
// lease released in between; a holder that stalled past its lease while
// another process took it over fails to renew with a *LostError, has its
// context cancelled and leaves the successor's lease alone, as does one
// whose successor released the lease since. Stale holders used to renew
// over their successor, and both went on working.
func testLeaseFencing(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	a, b := open(), open()
	log := slog.New(slog.DiscardHandler)
	var tokens []uint64
	for i, h := range []store.Store{a, b, a} {
		_, l, err := store.Claim(ctx, h, "job", fmt.Sprint("t", i%2), time.Minute, log)
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, l.Token)
		l.Release()
	}
	if !slices.IsSorted(tokens) || tokens[0] == tokens[1] || tokens[1] == tokens[2] {
		t.Errorf("tokens of successive acquisitions %v; want strictly increasing", tokens)
	}

	ctxA, la, err := store.Claim(ctx, a, "job", "s", time.Minute, log)
	if err != nil {
		t.Fatal(err)
	}
	defer la.Release()
	// a stalls past its lease: the record reads as expired, with a's token.
	past := time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)
	if err := b.PutRecord(ctx, "job", "s", fmt.Appendf(nil, "%s %d", past, la.Token)); err != nil {
		t.Fatal(err)
	}
	ctxB, lb, err := store.Claim(ctx, b, "job", "s", time.Minute, log)
	if err != nil {
		t.Fatalf("successor's claim of the expired lease: %v", err)
	}
	err = la.Renew(ctx)
	var lost *store.LostError
	if !errors.As(err, &lost) || lost.Token != la.Token || lost.Current != lb.Token {
		t.Fatalf("stale holder's Renew = %v; want a *LostError naming tokens %d and %d", err, la.Token, lb.Token)
	}
	if ctxA.Err() == nil || !errors.Is(context.Cause(ctxA), store.ErrLeaseLost) {
		t.Errorf("stale holder's context: err %v, cause %v; want cancelled by the lost lease", ctxA.Err(), context.Cause(ctxA))
	}
	if !errors.Is(la.Lost(), store.ErrLeaseLost) {
		t.Errorf("Lost() = %v; want the *LostError", la.Lost())
	}
	la.Release()
	if err := lb.Renew(ctx); err != nil || ctxB.Err() != nil {
		t.Errorf("successor's Renew = %v, context %v; want it still held", err, ctxB.Err())
	}
	if r, err := a.GetRecord(ctx, "job", "s"); err != nil || store.LeaseToken(r) != lb.Token {
		t.Errorf("lease after the stale holder's release = %v, %v; want the successor's token %d", r, err, lb.Token)
	}
	lb.Release()

	testRenewAfterRelease(t, a, b, log)
	testRenewRemoved(t, a, b, log)

}

// testRenewAfterRelease: a successor that took the lease over, finished
// and released it leaves no record, but tokens handed out after the stale
// holder's: its renewal finds the lease lost and writes nothing. It used
// to write the lease back "with no successor" and went on to record its
// outcome over the successor's.
func testRenewAfterRelease(t *testing.T, a, b store.Store, log *slog.Logger) {
	ctx := context.Background()
	var lost *store.LostError
	past := time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)
	ctxG, lg, err := store.Claim(ctx, a, "job", "g", time.Minute, log)
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Release()
	if err := b.PutRecord(ctx, "job", "g", fmt.Appendf(nil, "%s %d", past, lg.Token)); err != nil {
		t.Fatal(err)
	}
	_, lh, err := store.Claim(ctx, b, "job", "g", time.Minute, log)
	if err != nil {
		t.Fatalf("successor's claim of the expired lease: %v", err)
	}
	lh.Release()
	if err := lg.Renew(ctx); !errors.As(err, &lost) || lost.Token != lg.Token || lost.Current != 0 {
		t.Errorf("Renew of a lease taken over and released = %v; want a *LostError of token %d, removed", err, lg.Token)
	}
	if !errors.Is(context.Cause(ctxG), store.ErrLeaseLost) {
		t.Errorf("stale holder's context cause %v; want the lost lease", context.Cause(ctxG))
	}
	if r, err := b.GetRecord(ctx, "job", "g"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("lease after the stale holder's renewal = %v, %v; want none", r, err)
	}
}

// testRenewRemoved: a lease removed under its holder with no successor
// (the fallback of a failover store never saw it) is written back by the
// next renewal: nobody else holds it. Treated as lost, it stopped every
// run whose Redis primary went down.
func testRenewRemoved(t *testing.T, a, b store.Store, log *slog.Logger) {
	ctx := context.Background()
	ctxR, lr, err := store.Claim(ctx, a, "job", "r", time.Minute, log)
	if err != nil {
		t.Fatal(err)
	}
	defer lr.Release()
	if err := b.DeleteRecord(ctx, "job", "r"); err != nil {
		t.Fatal(err)
	}
	if err := lr.Renew(ctx); err != nil || ctxR.Err() != nil {
		t.Errorf("Renew of a removed lease = %v, context %v; want it written back and held", err, ctxR.Err())
	}
	if r, err := b.GetRecord(ctx, "job", "r"); err != nil || store.LeaseToken(r) != lr.Token {
		t.Errorf("removed lease after its holder's renewal = %v, %v; want it back with token %d", r, err, lr.Token)
	}
}

// flakySwaps fails the next SwapRecord calls on a real store, after
// (landed) or without doing the swap, as a timeout after or before the
// write does.
type flakySwaps struct {
	store.Claimer
	fail   int
	landed bool
}

func (f *flakySwaps) SwapRecord(ctx context.Context, kind, key string, old, value []byte) (bool, error) {
	if kind == store.TokenKind || f.fail == 0 {
		return f.Claimer.SwapRecord(ctx, kind, key, old, value)
	}
	f.fail--
	if f.landed {
		f.Claimer.SwapRecord(ctx, kind, key, old, value)
	}
	return false, errors.New("injected: connection reset")
}

// testLeaseRenewFailure: renewals that fail on the store's side are
// errors, not a lost lease, and the lease is still released at the end.
// The first failed renewal of a claim used to leave the claim in place
// until it expired (release took it for another holder's), as did any
// renewal that wrote its value but reported an error.
func testLeaseRenewFailure(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	a, b := open(), open()
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name   string
		fail   int
		landed bool
	}{
		{"first renewal fails", 1, false},
		{"first two fail", 2, false},
		{"renewal written but reported failed", 1, true},
	} {
		f := &flakySwaps{Claimer: a, fail: tc.fail, landed: tc.landed}
		key := "f/" + tc.name
		lctx, l, err := store.Claim(ctx, f, "job", key, time.Minute, log)
		if err != nil {
			t.Fatal(err)
		}
		for range tc.fail {
			if err := l.Renew(ctx); err == nil || errors.Is(err, store.ErrLeaseLost) {
				t.Errorf("%s: Renew = %v; want the store's error, not a lost lease", tc.name, err)
			}
		}
		if err := l.Renew(ctx); err != nil || lctx.Err() != nil {
			t.Errorf("%s: Renew once the store answers = %v, context %v; want renewed", tc.name, err, lctx.Err())
		}
		l.Release()
		if _, err := b.GetRecord(ctx, "job", key); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: lease after release: %v; want it deleted", tc.name, err)
		}
	}
}

// testSwapRecord: a swap writes only over the value it names (nil: only
// where there is no record), and goroutines on two handles incrementing
// one counter by read-and-swap lose none of their increments, as two
// processes promoting within one model name must not.
func testSwapRecord(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	a, b := open(), open()
	for _, tc := range []struct {
		old, value string
		nilOld     bool
		want       bool
		after      string
	}{
		{nilOld: true, value: "v1", want: true, after: "v1"},  // absent: created
		{nilOld: true, value: "v2", want: false, after: "v1"}, // present: not created again
		{old: "v0", value: "v2", want: false, after: "v1"},    // stale value: left alone
		{old: "v1", value: "v2", want: true, after: "v2"},
	} {
		var old []byte
		if !tc.nilOld {
			old = []byte(tc.old)
		}
		ok, err := a.SwapRecord(ctx, "swap", "k", old, []byte(tc.value))
		if err != nil || ok != tc.want {
			t.Errorf("SwapRecord(%q, %q) = %v, %v; want %v", old, tc.value, ok, err, tc.want)
		}
		if r, err := b.GetRecord(ctx, "swap", "k"); err != nil || string(r.Value) != tc.after {
			t.Errorf("after SwapRecord(%q, %q): record = %v, %v; want %q", old, tc.value, r, err, tc.after)
		}
	}
	if ok, err := a.SwapRecord(ctx, "swap", "missing", []byte("x"), []byte("y")); err != nil || ok {
		t.Errorf("swapping a missing record = %v, %v; want false", ok, err)
	}
	const perHandle, increments = 3, 15
	var wg sync.WaitGroup
	for _, s := range []store.Store{a, b} {
		for range perHandle {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range increments {
					if err := increment(ctx, s, "swap", "counter"); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	r, err := a.GetRecord(ctx, "swap", "counter")
	if want := fmt.Sprint(2 * perHandle * increments); err != nil || string(r.Value) != want {
		t.Errorf("counter = %v, %v; want %s (no increment lost)", r, err, want)
	}
}

// increment adds one to the decimal counter kind/key by read and swap,
// retrying while others change it.
func increment(ctx context.Context, s store.Store, kind, key string) error {
	// Each failed swap means another writer's succeeded, so a bounded
	// number of tries suffices; a SwapRecord that never succeeds fails
	// the test instead of hanging it.
	for range 10_000 {
		var old []byte
		n := 0
		r, err := s.GetRecord(ctx, kind, key)
		switch {
		case err == nil:
			old = r.Value
			if n, err = strconv.Atoi(string(r.Value)); err != nil {
				return err
			}
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		ok, err := s.SwapRecord(ctx, kind, key, old, []byte(strconv.Itoa(n+1)))
		if err != nil || ok {
			return err
		}
	}
	return fmt.Errorf("swap of %s/%s never succeeded", kind, key)
}
