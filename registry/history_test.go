package registry

import (
	"context"
	"testing"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/storetest"
)

// historyCounter is a real store that counts the listings of the
// registry's history, which grows by an event with every promotion.
type historyCounter struct {
	store.Swapper
	reads int
}

func (h *historyCounter) ListRecords(ctx context.Context, kind, prefix string) ([]*store.Record, error) {
	if kind == KindEvent {
		h.reads++
	}
	return h.Swapper.ListRecords(ctx, kind, prefix)
}

// TestHistoryReadOnlyWhenNeeded: resolving a version a name's record
// places (production, staging, the rollback stack: what serve loads on
// every hot swap), and deciding what gc must keep or may delete, read no
// history; only a version the name's record does not place needs it to
// tell archived from never staged. Every one of them read the whole
// history before: with a year of swaps every five minutes, serve's RSS
// rose from about 50 to 370 MB and each swap took over a second.
func TestHistoryReadOnlyWhenNeeded(t *testing.T) {
	ctx := context.Background()
	rec := &historyCounter{Swapper: storetest.SQLite(t)}
	r := newTestRegistry(t, rec)
	v1, v2, v3 := mustRegister(t, r, model("d1", true)), mustRegister(t, r, model("d2", true)), mustRegister(t, r, model("d3", true))
	v4, v5 := mustRegister(t, r, model("d4", true)), mustRegister(t, r, model("d5", true))
	for _, p := range []struct {
		v     string
		stage Stage
	}{{v1, Production}, {v2, Production}, {v3, Staging}, {v4, Staging}, {v3, Archived}} {
		if _, err := r.Promote(ctx, p.v, p.stage, PromoteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// v2 production, v1 on its rollback stack, v4 staging, v3 archived
	// (only the history says so), v5 never staged.
	tests := []struct {
		name        string
		call        func() (*Model, error)
		wantStage   Stage
		wantHistory bool
	}{
		{"production", func() (*Model, error) { return r.Resolve(ctx, "house@production") }, Production, false},
		{"serve's load", func() (*Model, error) { return r.Resolve(ctx, "house/"+v2) }, Production, false},
		{"staging", func() (*Model, error) { return r.Get(ctx, v4) }, Staging, false},
		{"rollback target", func() (*Model, error) { return r.Get(ctx, v1) }, Archived, false},
		{"archived by hand", func() (*Model, error) { return r.Get(ctx, v3) }, Archived, true},
		{"never staged", func() (*Model, error) { return r.Get(ctx, v5) }, None, true},
		{"protected", func() (*Model, error) { _, err := r.Protected(ctx); return nil, err }, "", false},
		{"delete", func() (*Model, error) { return nil, r.Delete(ctx, v5) }, "", false},
	}
	for _, tt := range tests {
		rec.reads = 0
		m, err := tt.call()
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if m != nil && m.Stage != tt.wantStage {
			t.Errorf("%s: stage %q; want %q", tt.name, m.Stage, tt.wantStage)
		}
		if got := rec.reads > 0; got != tt.wantHistory {
			t.Errorf("%s: read the history %d times; want reads %v", tt.name, rec.reads, tt.wantHistory)
		}
	}
}
