package registry

import (
	"context"
	"testing"
)

// FuzzRecords puts one arbitrary record — a model version, a name (its
// stages, aliases and route) or an event, as a damaged store or an
// imported dump may hold — beside the fixture's, then reads the
// registry every way the CLI, the UI and serve do: nothing panics.
func FuzzRecords(f *testing.F) {
	r, vs := resolveFixture(f)
	ctx := context.Background()
	kinds := []string{KindModel, KindName, KindEvent}
	for _, s := range []struct {
		kind       uint8
		key, value string
	}{
		{0, "ffff000011112222", `{"version": "ffff000011112222", "name": "house", "created": "2026-01-01T00:00:00Z"}`},
		{0, "ffff000011112222", `{"version": "other", "name": ""}`},
		{0, vs[0], `null`},
		{0, vs[0], `{"metrics": {"r2": "x"}}`},
		{1, "house", `{"production": {"version": "nope", "previous": ["", "` + vs[1] + `"]}, "aliases": {"a": {"version": ""}}}`},
		{1, "house", `{"route": {"split": [{"target": "production", "weight": -5}, {"target": "@a", "weight": 0}], "shadow": ["x", ""]}}`},
		{1, "house", `{"route": {"split": [{"target": "champion", "weight": 1}]}, "aliases": null}`},
		{1, "flat", `[]`},
		{1, "ghost", `{"staging": {"version": "` + vs[3] + `"}}`},
		{2, "2026", `{"name": "house", "action": "promote", "version": "` + vs[0] + `"}`},
		{2, "x", `{"seconds": "NaN"}`},
	} {
		f.Add(s.kind, s.key, []byte(s.value))
	}
	f.Fuzz(func(t *testing.T, kind uint8, key string, value []byte) {
		k := kinds[int(kind)%len(kinds)]
		old, _ := r.rec.GetRecord(ctx, k, key)
		if err := r.rec.PutRecord(ctx, k, key, value); err != nil {
			return
		}
		defer func() {
			if old != nil {
				r.rec.PutRecord(ctx, k, key, old.Value) //nolint:errcheck // best effort: the next input sees the fixture
			} else {
				r.rec.DeleteRecord(ctx, k, key) //nolint:errcheck // see above
			}
		}()
		r.Names(ctx)     //nolint:errcheck // only a panic fails here
		r.List(ctx, "")  //nolint:errcheck
		r.Protected(ctx) //nolint:errcheck
		for _, name := range []string{"house", "flat", key} {
			r.Plan(ctx, name)             //nolint:errcheck
			r.RouteOf(ctx, name)          //nolint:errcheck
			r.History(ctx, name)          //nolint:errcheck
			r.Production(ctx, name)       //nolint:errcheck
			r.Show(ctx, name+"@champion") //nolint:errcheck
			r.Show(ctx, name+"@latest")   //nolint:errcheck
		}
		for _, v := range append([]string{key}, vs...) {
			r.Show(ctx, v) //nolint:errcheck
		}
	})
}
