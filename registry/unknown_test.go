package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/sqlite"
	"github.com/tabforge/tabforge/store/storetest"
)

// editRecord rewrites a stored record's JSON with edit, as a newer build
// might have written it.
func editRecord(t *testing.T, rec store.Records, kind, key string, edit func(map[string]any)) {
	t.Helper()
	ctx := context.Background()
	got, err := rec.GetRecord(ctx, kind, key)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(got.Value, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, _ := json.Marshal(m)
	if err := rec.PutRecord(ctx, kind, key, b); err != nil {
		t.Fatal(err)
	}
}

// TestRewriteKeepsUnknown: members a newer tabforge added to a name
// record (at its top, in its production slot, its route and an alias)
// and to a version and a summary record survive this build's promotion,
// alias removal and second registration of the version, which rewrite
// those records; they were dropped, as this build decodes into its own
// types and encodes those. A member of a part this build removes (an
// alias) goes with it.
func TestRewriteKeepsUnknown(t *testing.T) {
	ctx := context.Background()
	rec, r, v1, v2 := twoVersions(t)
	if _, err := r.SetAlias(ctx, "house", "champion", v1, PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetAlias(ctx, "house", "old", v1, PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	// What a newer build might have added.
	addTo := func(kind, key string, add func(map[string]any)) { editRecord(t, rec, kind, key, add) }
	addTo(KindName, "house", func(m map[string]any) {
		m["archived_note"] = "kept"
		m["production"].(map[string]any)["approved_by"] = "kept"
		m["route"] = map[string]any{"mirror": "kept"}
		aliases := m["aliases"].(map[string]any)
		aliases["champion"].(map[string]any)["pinned"] = "kept"
		aliases["old"].(map[string]any)["pinned"] = "gone"
	})
	addTo(KindModel, v1, func(m map[string]any) { m["signature"] = "kept" })
	addTo(KindSummary, "house", func(m map[string]any) { m["canaries"] = "kept" })

	if _, err := r.Promote(ctx, v2, Staging, PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.RemoveAlias(ctx, "house", "old", PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	again := model("d1", true)
	again.RunID = "run-again"
	if _, created, err := r.Register(ctx, again); err != nil || created {
		t.Fatalf("Register again = %v, created %v", err, created)
	}

	name, err := rec.GetRecord(ctx, KindName, "house")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"archived_note":"kept"`, `"approved_by":"kept"`, `"mirror":"kept"`, `"pinned":"kept"`, `"staging":{"version":"` + v2} {
		if !bytes.Contains(name.Value, []byte(want)) {
			t.Errorf("name record %s; want it to hold %s", name.Value, want)
		}
	}
	if strings.Contains(string(name.Value), "gone") {
		t.Errorf("name record %s keeps a removed alias's member", name.Value)
	}
	ver, err := rec.GetRecord(ctx, KindModel, v1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(ver.Value, []byte(`"signature":"kept"`)) || !bytes.Contains(ver.Value, []byte(`"run-again"`)) {
		t.Errorf("version record %s; want the newer member kept and run-again added", ver.Value)
	}
	sum, err := rec.GetRecord(ctx, KindSummary, "house")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(sum.Value, []byte(`"canaries":"kept"`)) || !bytes.Contains(sum.Value, []byte(v2)) {
		t.Errorf("summary record %s; want the newer member kept and %s staged", sum.Value, v2)
	}
}

// TestRewriteKeepsNewerRoutes: a newer build's parts of a name record's
// route survive this build's promotions, which leave the route as it was.
// A route of a kind this build lacks keeps its "since" like every route
// (Route.Since), so this build reads it as a Route with a time and
// nothing else, which Route.IsZero calls zero and omitzero omits; the
// check whether this build reads it as zero used reflect's IsZero, which
// counts the time, so the route was dropped. And keepUnknown did not
// look into lists, so a member a newer build added to a share of a split
// was written back as this build read it.
func TestRewriteKeepsNewerRoutes(t *testing.T) {
	tests := []struct {
		name  string
		route map[string]any
		want  string
	}{
		{"route of a newer kind", map[string]any{"mirror": "kept", "since": "2026-12-07T10:00:00Z"}, `"mirror":"kept"`},
		{"newer member of a share", map[string]any{"split": []any{map[string]any{"target": "production", "weight": 1, "warmup": "kept"}},
			"since": "2026-12-07T10:00:00Z"}, `"warmup":"kept"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			rec, r, _, v2 := twoVersions(t)
			editRecord(t, rec, KindName, "house", func(m map[string]any) { m["route"] = tt.route })
			if _, err := r.Promote(ctx, v2, Staging, PromoteOptions{}); err != nil {
				t.Fatal(err)
			}
			name, err := rec.GetRecord(ctx, KindName, "house")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(name.Value, []byte(tt.want)) {
				t.Errorf("name record %s; want %s kept", name.Value, tt.want)
			}
		})
	}
}

// twoVersions registers two versions of "house" in a registry on SQLite
// and promotes the first to production: the records a newer build's
// members are then written into.
func twoVersions(t *testing.T) (*sqlite.Store, *Registry, string, string) {
	t.Helper()
	rec := storetest.SQLite(t)
	r := newTestRegistry(t, rec)
	v1 := mustRegister(t, r, model("d1", true))
	v2 := mustRegister(t, r, model("d2", true))
	if _, err := r.Promote(context.Background(), v1, Production, PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	return rec, r, v1, v2
}
