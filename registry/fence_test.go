package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/storetest"
)

// TestFencedPublish publishes under a lease through a fenced registry,
// then lets a successor take the lease over (forged with a newer token)
// and publishes again, as a holder stalled past its lease does: the new
// version, the promotion and the retrain event are refused with
// store.ErrLeaseLost and leave the registry as the successor sees it.
// Publishing was not fenced, so a stale holder's promotion landed after
// its successor's.
func TestFencedPublish(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	_, l, err := store.Claim(ctx, st, store.ClaimKind, "publish", time.Hour, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	plain := newTestRegistry(t, st)
	r := plain.Fenced(l.Fence())
	v1 := mustRegister(t, r, model("d1", true))
	if _, err := r.Promote(ctx, v1, Production, PromoteOptions{}); err != nil {
		t.Fatalf("promote under the lease: %v", err)
	}
	v2 := mustRegister(t, plain, model("d2", true))
	before, err := plain.History(ctx, "")
	if err != nil {
		t.Fatal(err)
	}

	forged := fmt.Appendf(nil, "%s %d", time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano), l.Token+1)
	if err := st.PutRecord(ctx, store.ClaimKind, "publish", forged); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Register(ctx, model("d3", true)); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("stale Register = %v; want store.ErrLeaseLost", err)
	}
	if _, err := r.Promote(ctx, v2, Production, PromoteOptions{}); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("stale Promote = %v; want store.ErrLeaseLost", err)
	}
	if _, err := r.Record(ctx, Event{Name: "house", Action: ActionRetrain, Version: v2, Parent: v1}); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("stale Record = %v; want store.ErrLeaseLost", err)
	}
	if models, err := plain.List(ctx, "house"); err != nil || len(models) != 2 {
		t.Errorf("versions after the stale Register = %d, %v; want the 2 registered before", len(models), err)
	}
	if m, err := plain.Production(ctx, "house"); err != nil || m.Version != v1 {
		t.Errorf("production after the stale Promote = %v, %v; want %s", m, err, v1)
	}
	if after, err := plain.History(ctx, ""); err != nil || len(after) != len(before) {
		t.Errorf("history after the stale writes has %d events, %v; want the %d before", len(after), err, len(before))
	}
}
