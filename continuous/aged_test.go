package continuous

import (
	"context"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store/storetest"
)

// TestAgedWithoutHistory: a champion's age (its retrain decisions and
// those of the version it was refreshed from) is the same once the
// history is gone, as gc --history-older-than removes it. aged read the
// whole history of the name before, so pruning reset every champion's
// age to 0 and max_age never triggered again.
func TestAgedWithoutHistory(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	reg, err := registry.Open(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	register := func(data string) string {
		t.Helper()
		m, _, err := reg.Register(ctx, registry.Model{Name: "sales", RunID: "run-" + data,
			Identity: registry.Identity{DatasetHash: data, ConfigHash: "cfg", CodeVersion: "test"},
			Artifact: artifact.Ref{Key: "models/" + data, SHA256: "ab"}, Deployable: true})
		if err != nil {
			t.Fatal(err)
		}
		return m.Version
	}
	first, refreshed, keptOut, lost := register("d1"), register("d2"), register("d3"), register("d4")
	for _, e := range []registry.Event{
		{Version: keptOut, Parent: first, Reason: "keep: the challenger lost"},
		{Version: refreshed, Parent: first, Reason: Refresh + ": the refreshed champion wins"},
		{Version: lost, Parent: refreshed, Reason: "keep: the challenger lost"},
	} {
		e.Name, e.Action = "sales", registry.ActionRetrain
		if _, err := reg.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	champ, err := reg.Get(ctx, refreshed)
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		for _, tt := range []struct {
			maxAge int
			want   string // "" for not aged
		}{{3, "seen 3 new data versions"}, {4, ""}} {
			got, err := aged(ctx, Env{Registry: reg}, champ, tt.maxAge)
			if err != nil {
				t.Fatal(err)
			}
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("%s: aged(max age %d) = %q; want %q", when, tt.maxAge, got, tt.want)
			}
		}
	}
	check("with the history")
	events, err := st.ListRecords(ctx, registry.KindEvent, "")
	if err != nil || len(events) != 3 {
		t.Fatalf("events = %d, %v; want 3", len(events), err)
	}
	for _, rec := range events {
		if err := st.DeleteRecord(ctx, registry.KindEvent, rec.Key); err != nil {
			t.Fatal(err)
		}
	}
	check("without the history")
}
