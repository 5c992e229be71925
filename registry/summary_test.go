package registry

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/tabforge/tabforge/store"
)

// TestSummaryMigration opens a store of layout 1 (a history, and no
// summaries: what every store held before them) from two handles at
// once, as two processes would, while a third promotes a version: the
// layout becomes 2 once, each name's summary takes in its whole history,
// and the promotion made meanwhile is in it too (summaries merge, never
// write over). Without the summary, models list read the whole history
// to tell archived from never staged.
func TestSummaryMigration(t *testing.T) {
	for _, b := range sharedBackends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			ha, hb := b.open(t)
			r := newTestRegistry(t, ha)
			v1, v2, v3 := mustRegister(t, r, model("d1", true)), mustRegister(t, r, model("d2", true)), mustRegister(t, r, model("d3", true))
			v4, v5 := mustRegister(t, r, model("d4", true)), mustRegister(t, r, model("d5", true))
			for _, p := range []struct {
				v     string
				stage Stage
			}{{v1, Production}, {v2, Staging}, {v2, Archived}, {v3, Production}} {
				if _, err := r.Promote(ctx, p.v, p.stage, PromoteOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := r.Record(ctx, Event{Name: "house", Action: ActionRetrain, Version: v4, Parent: v3, Reason: "keep: lost"}); err != nil {
				t.Fatal(err)
			}
			// Back to layout 1: no summaries.
			if err := ha.DeleteRecord(ctx, KindSummary, "house"); err != nil {
				t.Fatal(err)
			}
			if err := ha.PutRecord(ctx, KindMeta, layoutKey, []byte(`{"version":1,"migrated":"2026-01-01T00:00:00Z"}`)); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make([]error, 3)
			for i, h := range []store.Swapper{ha, hb, ha} {
				wg.Go(func() {
					if _, errs[i] = Open(ctx, h); errs[i] == nil && i == 2 {
						_, errs[i] = New(h).Promote(ctx, v5, Staging, PromoteOptions{})
					}
				})
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			if v, _, err := r.layout(ctx); err != nil || v != LayoutVersion {
				t.Fatalf("layout = %d, %v; want %d", v, err, LayoutVersion)
			}
			s, err := New(hb).Summary(ctx, "house")
			if err != nil {
				t.Fatal(err)
			}
			if want := slices.Sorted(slices.Values([]string{v1, v2, v3, v5})); !slices.Equal(s.Staged, want) {
				t.Errorf("staged = %v; want %v (v4 never staged)", s.Staged, want)
			}
			if s.Retrains[v3] != 1 || s.Retrained[v4] != (Retrain{Parent: v3, Decision: "keep"}) {
				t.Errorf("retrains = %v, retrained = %v; want one decision about %s with %s as parent", s.Retrains, s.Retrained, v4, v3)
			}
			for v, want := range map[string]Stage{v1: Archived, v2: Archived, v3: Production, v4: None, v5: Staging} {
				if m, err := r.Get(ctx, v); err != nil || m.Stage != want {
					t.Errorf("stage of %s = %v, %v; want %s", v, m, err, want)
				}
			}
		})
	}
}

// TestSummaryMerge: merging summaries is a union (counts: the larger),
// so folding the history into one kept up to date meanwhile adds what
// it lacks, loses nothing and counts no decision twice.
func TestSummaryMerge(t *testing.T) {
	kept := Summary{Staged: []string{"a", "c"}, Retrains: map[string]int{"a": 3}, Retrained: map[string]Retrain{"x": {"a", "keep"}}}
	tests := []struct {
		name        string
		folded      Summary
		want        Summary
		wantChanged bool
	}{
		{"the same", kept, kept, false},
		{"older", Summary{Staged: []string{"a"}, Retrains: map[string]int{"a": 2}}, kept, false},
		{"more", Summary{Staged: []string{"b"}, Retrains: map[string]int{"a": 4, "b": 1}, Retrained: map[string]Retrain{"x": {"b", "promote"}, "y": {"b", "keep"}}},
			Summary{Staged: []string{"a", "b", "c"}, Retrains: map[string]int{"a": 4, "b": 1}, Retrained: map[string]Retrain{"x": {"a", "keep"}, "y": {"b", "keep"}}}, true},
	}
	for _, tt := range tests {
		s := Summary{Staged: slices.Clone(kept.Staged), Retrains: map[string]int{"a": 3}, Retrained: map[string]Retrain{"x": {"a", "keep"}}}
		changed := s.merge(&tt.folded)
		if changed != tt.wantChanged || !slices.Equal(s.Staged, tt.want.Staged) || !maps.Equal(s.Retrains, tt.want.Retrains) || !maps.Equal(s.Retrained, tt.want.Retrained) {
			t.Errorf("%s: merge = %+v, changed %v; want %+v, changed %v", tt.name, s, changed, tt.want, tt.wantChanged)
		}
	}
}
