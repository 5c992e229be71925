package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
)

// testCreateRun creates a run whose id prefixes two others (so GetRun of
// it alone is ambiguous), then creates it and one of the others again
// with another outcome: the first creation is made, the later two are
// refused and leave the runs as they were. It runs on the store itself
// (its own CreateRun if it is a store.RunCreator) and on a store.Runs
// that hides it, for store.CreateRun's read-then-write path.
func testCreateRun(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	s := open()
	run := func(id, best string) *store.Run {
		return &store.Run{ID: id, Created: time.Unix(1, 0).UTC(), Status: store.Succeeded, Config: json.RawMessage(`{}`), Best: best}
	}
	for _, c := range []struct {
		name string
		runs store.Runs
	}{{"native", s}, {"generic", struct{ store.Runs }{s}}} {
		id := c.name + "-ab"
		for _, other := range []string{id + "1", id + "2"} {
			if err := s.PutRun(ctx, run(other, "before")); err != nil {
				t.Fatal(err)
			}
		}
		for _, tt := range []struct {
			id, best string
			want     bool
		}{{id, "first", true}, {id, "second", false}, {id + "1", "second", false}} {
			if ok, err := store.CreateRun(ctx, c.runs, run(tt.id, tt.best)); err != nil || ok != tt.want {
				t.Errorf("%s: CreateRun(%s, %s) = %v, %v; want %v", c.name, tt.id, tt.best, ok, err, tt.want)
			}
		}
		for id, want := range map[string]string{id: "first", id + "1": "before", id + "2": "before"} {
			if got, err := s.GetRun(ctx, id); err != nil || got.ID != id || got.Best != want {
				t.Errorf("%s: run %s after the creations = %+v, %v; want best %q", c.name, id, got, err, want)
			}
		}
	}
}
