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
