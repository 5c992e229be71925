package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
)

// testPutRunFenced writes a run under its lease, then over a lease that
// a newer acquisition holds (its record forged with a greater token, as
// a takeover writes it while the holder is stalled) and over no lease:
// both are refused with a *LostError naming the record's token, and the
// run keeps the value written under the lease.
func testPutRunFenced(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	s := open()
	w, ok := s.(store.FencedRunWriter)
	if !ok {
		t.Fatalf("%T does not fence its run writes (store.FencedRunWriter)", s)
	}
	_, l, err := store.Claim(ctx, s, store.LeaseKind, "fenced", time.Hour, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	run := &store.Run{ID: "fenced", Created: time.Now().UTC(), Status: store.Running, Config: json.RawMessage(`{}`)}
	if err := w.PutRunFenced(ctx, run, l.Fence()); err != nil {
		t.Fatalf("PutRunFenced under the lease: %v", err)
	}
	stale := *run
	stale.Status, stale.Error = store.Failed, "written by a stale holder"
	newer := l.Token + 1000
	forged := fmt.Appendf(nil, "%s %d", time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano), newer)
	for _, tt := range []struct {
		name  string
		lease []byte // nil: none
		want  uint64
	}{{"a newer token", forged, newer}, {"no lease", nil, 0}} {
		if tt.lease == nil {
			err = s.DeleteRecord(ctx, store.LeaseKind, "fenced")
		} else {
			err = s.PutRecord(ctx, store.LeaseKind, "fenced", tt.lease)
		}
		if err != nil {
			t.Fatal(err)
		}
		err := w.PutRunFenced(ctx, &stale, l.Fence())
		var lost *store.LostError
		if !errors.As(err, &lost) || lost.Token != l.Token || lost.Current != tt.want {
			t.Errorf("PutRunFenced over %s: %v; want a *LostError of token %d to %d", tt.name, err, l.Token, tt.want)
		}
		if got, err := s.GetRun(ctx, "fenced"); err != nil || got.Status != store.Running {
			t.Errorf("run after PutRunFenced over %s = %+v, %v; want it running, as written under the lease", tt.name, got, err)
		}
	}
}

// testSwapRecordFenced creates and swaps records under a lease, then
// over a lease that a newer acquisition holds (forged with a greater
// token) and over no lease: the creation, the swap and a PutRecordFenced
// are refused with a *LostError naming the record's token, and leave the
// records as written under the lease. Of two fences, a lost second one
// refuses the swap too.
func testSwapRecordFenced(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	s := open()
	if _, ok := s.(store.FencedSwapper); !ok {
		t.Fatalf("%T does not fence its swaps (store.FencedSwapper)", s)
	}
	log := slog.New(slog.DiscardHandler)
	_, l, err := store.Claim(ctx, s, store.ClaimKind, "publish", time.Hour, log)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	_, other, err := store.Claim(ctx, s, store.ClaimKind, "other", time.Hour, log)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Release()
	if ok, err := store.SwapRecordFenced(ctx, s, "pub", "a", nil, []byte("v1"), l.Fence()); err != nil || !ok {
		t.Fatalf("create under the lease = %v, %v; want created", ok, err)
	}
	if ok, err := store.SwapRecordFenced(ctx, s, "pub", "a", []byte("v1"), []byte("v2"), l.Fence(), other.Fence()); err != nil || !ok {
		t.Fatalf("swap under both leases = %v, %v; want swapped", ok, err)
	}
	if ok, err := store.SwapRecordFenced(ctx, s, "pub", "a", []byte("v1"), []byte("v3"), l.Fence()); err != nil || ok {
		t.Errorf("swap over a value no longer there = %v, %v; want false, nil", ok, err)
	}
	newer := l.Token + 1000
	forged := fmt.Appendf(nil, "%s %d", time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano), newer)
	for _, tt := range []struct {
		name   string
		lease  []byte // nil: none
		fences []store.Fence
		want   uint64
	}{
		{"a newer token", forged, []store.Fence{l.Fence()}, newer},
		{"no lease", nil, []store.Fence{l.Fence()}, 0},
		{"a newer token of the second fence", forged, []store.Fence{other.Fence(), l.Fence()}, newer},
	} {
		if tt.lease == nil {
			err = s.DeleteRecord(ctx, store.ClaimKind, "publish")
		} else {
			err = s.PutRecord(ctx, store.ClaimKind, "publish", tt.lease)
		}
		if err != nil {
			t.Fatal(err)
		}
		check := func(what string, err error) {
			t.Helper()
			var lost *store.LostError
			if !errors.As(err, &lost) || lost.Key != "publish" || lost.Token != l.Token || lost.Current != tt.want {
				t.Errorf("%s over %s: %v; want a *LostError of publish's token %d to %d", what, tt.name, err, l.Token, tt.want)
			}
		}
		ok, err := store.SwapRecordFenced(ctx, s, "pub", "b", nil, []byte("stale"), tt.fences...)
		check("create", err)
		if ok {
			t.Errorf("create over %s reported done", tt.name)
		}
		ok, err = store.SwapRecordFenced(ctx, s, "pub", "a", []byte("v2"), []byte("stale"), tt.fences...)
		check("swap", err)
		if ok {
			t.Errorf("swap over %s reported done", tt.name)
		}
		check("PutRecordFenced", store.PutRecordFenced(ctx, s, "pub", "a", []byte("stale"), tt.fences...))
		if r, err := s.GetRecord(ctx, "pub", "a"); err != nil || string(r.Value) != "v2" {
			t.Errorf("record after the writes over %s = %v, %v; want v2, as written under the lease", tt.name, r, err)
		}
		if r, err := s.GetRecord(ctx, "pub", "b"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("record created over %s = %v, %v; want none", tt.name, r, err)
		}
	}
}
