package registry

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
)

// pruneHistory writes, in the same order and clock on every store it is
// given, a name's history: staged, archived, aliased, retrained, swapped
// in and out of production many times, rolled back. It returns the
// registry; v[0..4] are its versions.
func pruneHistory(t *testing.T, rec store.Swapper) (*Registry, []string) {
	t.Helper()
	ctx := context.Background()
	r := newTestRegistry(t, rec)
	if err := r.markLayout(ctx); err != nil {
		t.Fatal(err)
	}
	var v []string
	for i := range 5 {
		v = append(v, mustRegister(t, r, model(fmt.Sprint("d", i), true)))
	}
	do := func(_ *Event, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	do(r.Promote(ctx, v[2], Staging, PromoteOptions{}))
	do(r.SetAlias(ctx, "house", "champion", v[0], PromoteOptions{}))
	do(r.Promote(ctx, v[2], Archived, PromoteOptions{}))
	do(r.SetAlias(ctx, "house", "challenger", v[1], PromoteOptions{}))
	do(r.Record(ctx, Event{Name: "house", Action: ActionRetrain, Version: v[3], Parent: v[0], Reason: "keep: lost"}))
	for i := range 20 {
		do(r.Promote(ctx, v[i%2], Production, PromoteOptions{}))
	}
	do(r.SetAlias(ctx, "house", "challenger", v[3], PromoteOptions{}))
	do(r.SetAlias(ctx, "house", "temp", v[3], PromoteOptions{}))
	do(r.RemoveAlias(ctx, "house", "temp", PromoteOptions{}))
	do(r.Promote(ctx, v[4], Staging, PromoteOptions{}))
	do(r.Rollback(ctx, "house", PromoteOptions{}))
	return r, v
}

// answers is what a user asks the registry of a name, but its history.
func answers(t *testing.T, r *Registry, v []string) map[string]any {
	t.Helper()
	ctx := context.Background()
	out := map[string]any{}
	for _, ref := range append([]string{"house@production", "house@staging", "house@champion", "house@challenger", "house@latest"}, v...) {
		m, err := r.Resolve(ctx, ref)
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		out[ref] = fmt.Sprint(m.Version, m.Stage, m.Aliases)
	}
	list, err := r.List(ctx, "house")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		out["list "+m.Version] = fmt.Sprint(m.Stage, m.Aliases)
	}
	if out["protected"], err = r.Protected(ctx); err != nil {
		t.Fatal(err)
	}
	if out["summary"], err = r.Summary(ctx, "house"); err != nil {
		t.Fatal(err)
	}
	return out
}

// failingDeletes is a real store whose deletes fail after the first n,
// as a prune killed part way would stop, and which counts the store
// calls that delete.
type failingDeletes struct {
	store.Swapper
	n     int
	calls int
}

func (f *failingDeletes) DeleteRecord(ctx context.Context, kind, key string) error {
	return f.DeleteRecords(ctx, kind, []string{key})
}

// DeleteRecords removes the first keys the budget n allows, then fails:
// a batch on Redis is a transaction per chunk, so a killed prune may
// stop part way through one.
func (f *failingDeletes) DeleteRecords(ctx context.Context, kind string, keys []string) error {
	f.calls++
	if f.n < 0 {
		return store.DeleteRecords(ctx, f.Swapper, kind, keys)
	}
	k := min(f.n, len(keys))
	if err := store.DeleteRecords(ctx, f.Swapper, kind, keys[:k]); err != nil {
		return err
	}
	if f.n -= k; k < len(keys) {
		return errors.New("killed")
	}
	return nil
}

// TestPruneHistory prunes a name's whole history on each backend and
// compares every answer and a rollback with those of the same history
// unpruned: only the events behind current stages and aliases stay
// (each version's newest stage change, the newest change of each
// current alias), a dry run counts what the real one removes, a prune
// cut short and run again removes the rest, and a rerun removes nothing.
func TestPruneHistory(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			full, v := pruneHistory(t, b.open(t))
			rec := &failingDeletes{Swapper: b.open(t), n: 5}
			pruned, _ := pruneHistory(t, rec)
			h, err := pruned.History(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			before := h[len(h)-1].Time.Add(time.Nanosecond) // every event is old
			want := answers(t, full, v)

			dry, err := pruned.PruneHistory(ctx, before, true)
			if err != nil {
				t.Fatal(err)
			}
			// Kept: v0, v1, v2 (archived), v4 (staging): their newest stage
			// change; champion -> v0 and challenger -> v3: their newest.
			if dry.Removed["house"] != len(h)-6 || dry.Kept["house"] != 6 {
				t.Errorf("dry run removes %v, keeps %v of %d; want %d and 6", dry.Removed, dry.Kept, len(h), len(h)-6)
			}
			if _, err := pruned.PruneHistory(ctx, before, false); err == nil {
				t.Fatal("a prune whose deletes fail succeeded")
			}
			if got := answers(t, pruned, v); !reflect.DeepEqual(got, want) {
				t.Errorf("after a prune cut short:\n%v\nwant\n%v", got, want)
			}
			rec.n, rec.calls = -1, 0
			real, err := pruned.PruneHistory(ctx, before, false)
			if err != nil {
				t.Fatal(err)
			}
			// One page of history, so one batch: a store call per event is
			// what made gc slow on long histories.
			if rec.calls != 1 {
				t.Errorf("the rerun deleted %d events in %d store calls; want 1", real.Removed["house"], rec.calls)
			}
			if real.Removed["house"] != dry.Removed["house"]-5 || !maps.Equal(real.Kept, dry.Kept) {
				t.Errorf("the rerun removed %v, kept %v; want the dry run's %v less the 5 removed before, and %v", real.Removed, real.Kept, dry.Removed, dry.Kept)
			}
			if left, err := pruned.History(ctx, ""); err != nil || len(left) != 6 {
				t.Errorf("history after pruning: %d events, %v; want 6", len(left), err)
			}
			if got := answers(t, pruned, v); !reflect.DeepEqual(got, want) {
				t.Errorf("after pruning:\n%v\nwant\n%v", got, want)
			}
			if again, err := pruned.PruneHistory(ctx, before, false); err != nil || len(again.Removed) != 0 {
				t.Errorf("pruning again removed %v, %v; want nothing", again.Removed, err)
			}
			for i := range 3 { // down the rollback stack
				ef, errf := full.Rollback(ctx, "house", PromoteOptions{})
				ep, errp := pruned.Rollback(ctx, "house", PromoteOptions{})
				if errf != nil || errp != nil || ef.Version != ep.Version || ef.Replaced != ep.Replaced {
					t.Fatalf("rollback %d: pruned %+v, %v; unpruned %+v, %v", i, ep, errp, ef, errf)
				}
			}
			if got, want := answers(t, pruned, v), answers(t, full, v); !reflect.DeepEqual(got, want) {
				t.Errorf("after rollbacks, pruned:\n%v\nunpruned:\n%v", got, want)
			}
		})
	}
}

// TestPruneNeedsSummaries: a store of layout 1 has no summaries, which
// would then be all that tells archived versions apart; pruning it is
// refused.
func TestPruneNeedsSummaries(t *testing.T) {
	ctx := context.Background()
	rec := backends()[0].open(t)
	r, _ := pruneHistory(t, rec)
	if err := rec.PutRecord(ctx, KindMeta, layoutKey, []byte(`{"version":1}`)); err != nil {
		t.Fatal(err)
	}
	if p, err := r.PruneHistory(ctx, time.Now(), false); err == nil {
		t.Errorf("PruneHistory on layout 1 = %+v; want an error", p)
	}
}
