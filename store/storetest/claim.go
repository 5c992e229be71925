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
	release, err := store.Claim(ctx, a, "job", "x", time.Minute, log)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Claim(ctx, b, "job", "x", time.Minute, log); !errors.Is(err, store.ErrClaimed) {
		t.Errorf("second claim: %v; want ErrClaimed", err)
	}
	release()
	if _, err := b.GetRecord(ctx, "job", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("lease after release: %v; want it deleted", err)
	}
	releaseB, err := store.Claim(ctx, b, "job", "x", time.Minute, log)
	if err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	releaseB()
	// A holder that died leaves a lease that expired.
	past := time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)
	if err := a.PutRecord(ctx, "job", "y", []byte(past)); err != nil {
		t.Fatal(err)
	}
	releaseY, err := store.Claim(ctx, b, "job", "y", time.Minute, log)
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
	releaseY()
	// Of several processes finding the same expired lease at once, one
	// takes it over; all of them used to.
	if err := a.PutRecord(ctx, "job", "w", []byte(past)); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var releases []func()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			h := a
			if i%2 == 1 {
				h = b
			}
			rel, err := store.Claim(ctx, h, "job", "w", time.Minute, log)
			if err != nil && !errors.Is(err, store.ErrClaimed) {
				t.Error(err)
			}
			if err == nil {
				mu.Lock()
				releases = append(releases, rel)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(releases) != 1 {
		t.Errorf("%d of 8 processes took over one expired lease; want 1", len(releases))
	}
	for _, rel := range releases {
		rel()
	}
	// A holder whose lease was taken over (it expired while the holder
	// stalled) does not release the new holder's.
	releaseZ := store.HoldLease(ctx, a, "job", "z", time.Minute, log)
	if err := b.PutRecord(ctx, "job", "z", []byte("the new holder's")); err != nil {
		t.Fatal(err)
	}
	releaseZ()
	if r, err := b.GetRecord(ctx, "job", "z"); err != nil || string(r.Value) != "the new holder's" {
		t.Errorf("lease after the old holder's release = %v, %v; want the new holder's kept", r, err)
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
