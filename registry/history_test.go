package registry

import (
	"context"
	"testing"
	"time"

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

// TestHistoryNeverRead: resolving a version a name's record places
// (production, staging, the rollback stack: what serve loads on every
// hot swap), deciding what gc must keep or may delete, and telling an
// archived version from one never staged (models list, show) read no
// history. Every one of them read the whole history once: with a year
// of swaps every five minutes, serve's RSS rose from about 50 to 370 MB
// and each swap took over a second; the last two (archived or never
// staged) still did, and models list with them, until the name's
// Summary said it.
func TestHistoryNeverRead(t *testing.T) {
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
	// (only its name's Summary says so), v5 never staged.
	tests := []struct {
		name      string
		call      func() (*Model, error)
		wantStage Stage
	}{
		{"production", func() (*Model, error) { return r.Resolve(ctx, "house@production") }, Production},
		{"serve's load", func() (*Model, error) { return r.Resolve(ctx, "house/"+v2) }, Production},
		{"staging", func() (*Model, error) { return r.Get(ctx, v4) }, Staging},
		{"rollback target", func() (*Model, error) { return r.Get(ctx, v1) }, Archived},
		{"archived by hand", func() (*Model, error) { return r.Get(ctx, v3) }, Archived},
		{"never staged", func() (*Model, error) { return r.Get(ctx, v5) }, None},
		{"list", func() (*Model, error) {
			ms, err := r.List(ctx, "house")
			for _, m := range ms {
				if m.Version == v3 {
					return m, err
				}
			}
			return nil, err
		}, Archived},
		{"protected", func() (*Model, error) { _, err := r.Protected(ctx); return nil, err }, ""},
		{"delete", func() (*Model, error) { return nil, r.Delete(ctx, v5) }, ""},
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
		if rec.reads != 0 {
			t.Errorf("%s: read the history %d times; want none", tt.name, rec.reads)
		}
	}
}

// pageCounter is a real store that counts the history events it reads,
// listed or paged.
type pageCounter struct {
	store.Swapper
	events int
}

func (p *pageCounter) ListRecords(ctx context.Context, kind, prefix string) ([]*store.Record, error) {
	recs, err := p.Swapper.ListRecords(ctx, kind, prefix)
	if kind == KindEvent {
		p.events += len(recs)
	}
	return recs, err
}

func (p *pageCounter) PageRecords(ctx context.Context, kind, from, to string, limit int, desc bool) ([]*store.Record, error) {
	recs, err := store.PageRecords(ctx, p.Swapper, kind, from, to, limit, desc)
	if kind == KindEvent {
		p.events += len(recs)
	}
	return recs, err
}

// TestHistoryWith: the newest events of the whole history, of a name
// and of a version, and those since a time, equal the tail of the full
// history, and reading the newest few of a long history reads a page of
// it, not all of it. `models history` printed all 100,000 events of a
// year of hot swaps (14 s), and read them all to show any part.
func TestHistoryWith(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			rec := &pageCounter{Swapper: b.open(t)}
			r := newTestRegistry(t, rec)
			h1, h2 := mustRegister(t, r, model("h1", true)), mustRegister(t, r, model("h2", true))
			c1 := mustRegister(t, r, named("churn", "c1", true))
			if _, err := r.Promote(ctx, c1, Production, PromoteOptions{}); err != nil {
				t.Fatal(err)
			}
			for i := range 150 {
				if _, err := r.Promote(ctx, []string{h1, h2}[i%2], Production, PromoteOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := r.SetAlias(ctx, "house", "champion", h1, PromoteOptions{}); err != nil {
				t.Fatal(err)
			}
			all, err := r.History(ctx, "")
			if err != nil || len(all) != 152 {
				t.Fatalf("History = %d events, %v; want 152", len(all), err)
			}
			since := all[140].Time
			tests := []struct {
				ref      string
				q        HistoryQuery
				want     int // the newest want events of the ref's full history
				maxReads int
			}{
				{"", HistoryQuery{Limit: 3}, 3, 64},
				{"house", HistoryQuery{Limit: 2}, 2, 64},
				{"churn", HistoryQuery{Limit: 10}, 1, 152},
				{h2, HistoryQuery{Limit: 4}, 4, 64},
				{"house", HistoryQuery{Since: since}, 12, 12},
				{"", HistoryQuery{Limit: 5, Since: since}, 5, 12},
				{"house", HistoryQuery{Limit: 500}, 151, 152},
				{"churn", HistoryQuery{}, 1, 152},
			}
			for _, tt := range tests {
				full, err := r.History(ctx, tt.ref)
				if err != nil {
					t.Fatal(err)
				}
				rec.events = 0
				got, err := r.HistoryWith(ctx, tt.ref, tt.q)
				if err != nil {
					t.Fatalf("HistoryWith(%q, %+v): %v", tt.ref, tt.q, err)
				}
				want := full[len(full)-tt.want:]
				if len(got) != len(want) || (len(got) > 0 && (got[0] != want[0] || got[len(got)-1] != want[len(want)-1])) {
					t.Errorf("HistoryWith(%q, %+v) = %d events %v; want the newest %d, oldest first", tt.ref, tt.q, len(got), got, tt.want)
				}
				if rec.events > tt.maxReads {
					t.Errorf("HistoryWith(%q, %+v) read %d events; want at most %d", tt.ref, tt.q, rec.events, tt.maxReads)
				}
			}
			if _, err := r.HistoryWith(ctx, "", HistoryQuery{Limit: -1}); err == nil {
				t.Error("a negative limit was accepted")
			}
		})
	}
}

// TestShowNewestHistory: Show gives a version's newest ShowHistory
// changes and says there are older ones, reading a page of the history.
// It gave all of them: `models show houses@production` printed 100,000
// lines (12 s) for a version swapped in every ten minutes for a year.
func TestShowNewestHistory(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			rec := &pageCounter{Swapper: b.open(t)}
			r := newTestRegistry(t, rec)
			h1, h2, h3 := mustRegister(t, r, model("h1", true)), mustRegister(t, r, model("h2", true)), mustRegister(t, r, model("h3", true))
			for i := range 150 {
				if _, err := r.Promote(ctx, []string{h1, h2}[i%2], Production, PromoteOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := r.Promote(ctx, h3, Staging, PromoteOptions{}); err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				v         string
				want      int
				wantOlder bool
			}{{h1, ShowHistory, true}, {h3, 1, false}}
			for _, tt := range tests {
				full, err := r.History(ctx, tt.v)
				if err != nil {
					t.Fatal(err)
				}
				rec.events = 0
				d, err := r.Show(ctx, tt.v)
				if err != nil {
					t.Fatal(err)
				}
				want := full[len(full)-tt.want:]
				if len(d.History) != tt.want || d.History[0] != want[0] || d.History[tt.want-1] != want[tt.want-1] || d.OlderHistory != tt.wantOlder {
					t.Errorf("Show(%s): %d events (older %v); want the newest %d of %d (older %v)", tt.v, len(d.History), d.OlderHistory, tt.want, len(full), tt.wantOlder)
				}
				if rec.events > 64 && tt.wantOlder {
					t.Errorf("Show(%s) read %d events; want a page (64) of the %d", tt.v, rec.events, len(full))
				}
			}
		})
	}
}

// TestHistoryEmptyEventKey reads the newest events when one, from a
// damaged store or dump, is keyed "": paging down to it ended with an
// empty bound, which is no bound, so the history read the newest page
// again, repeating its events up to the limit, or for ever when none
// matched (found by FuzzRecords). The deadline only stops a hang.
func TestHistoryEmptyEventKey(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			st := b.open(t)
			r := newTestRegistry(t, st)
			v := mustRegister(t, r, model("h1", true))
			if _, err := r.Promote(ctx, v, Production, PromoteOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := st.PutRecord(ctx, KindEvent, "", []byte(`{"name": "other", "action": "promote"}`)); err != nil {
				t.Fatal(err)
			}
			for _, q := range []HistoryQuery{{Limit: 5}, {Limit: 100}} {
				got, err := r.HistoryWith(ctx, "house", q)
				if err != nil || len(got) != 1 {
					t.Errorf("HistoryWith(house, %+v) = %d events, %v; want the one promotion", q, len(got), err)
				}
			}
			if _, err := r.Show(ctx, v); err != nil {
				t.Errorf("Show(%s): %v", v, err)
			}
		})
	}
}
