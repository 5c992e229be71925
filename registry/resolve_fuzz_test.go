package registry

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/storetest"
)

// resolveFixture registers three versions of "house" (one in production,
// one in staging, one aliased "champion") and one of "flat", on a real
// SQLite store. It returns the registry and the versions, oldest first.
func resolveFixture(t testing.TB) (*Registry, []string) {
	ctx := context.Background()
	r := newTestRegistry(t, storetest.SQLite(t))
	var vs []string
	for _, d := range []string{"a", "b", "c"} {
		vs = append(vs, mustRegister(t, r, model(d, true)))
	}
	flat := model("f", true)
	flat.Name = "flat"
	vs = append(vs, mustRegister(t, r, flat))
	if _, err := r.Promote(ctx, vs[0], Production, PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Promote(ctx, vs[1], Staging, PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetAlias(ctx, "house", "champion", vs[2], PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	return r, vs
}

// resolveErrors are the errors Resolve documents its failures wrap.
var resolveErrors = []error{ErrUnknownName, ErrUnknownAlias, ErrNoProduction, ErrNoStaging, ErrAmbiguous, store.ErrNotFound}

// FuzzResolve feeds model references to Resolve: no panic; a failure
// wraps one of the documented errors (callers map them to 404 or 409);
// a success is the version the reference names — of the name before '@'
// or '/', holding the stage or alias after '@', starting with the
// version (prefix) given.
func FuzzResolve(f *testing.F) {
	r, vs := resolveFixture(f)
	ctx := context.Background()
	for _, s := range []string{"house@production", "house@staging", "house@champion", "house@latest", "house@archived",
		"house@none", "house@Production", "house@", "@production", "house/", "house/" + vs[0][:2], "flat/" + vs[0],
		vs[1], vs[1][:4], strings.ToUpper(vs[2][:6]), "house", " house@production ", "a@b@c", "house/x/y", "/", "@", "%", "_",
		"house/%", vs[0][:3] + "_", "hou%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		m, err := r.Resolve(ctx, ref)
		if err != nil {
			if !slices.ContainsFunc(resolveErrors, func(e error) bool { return errors.Is(err, e) }) {
				t.Fatalf("Resolve(%q): %v wraps none of the documented errors", ref, err)
			}
			return
		}
		checkResolved(t, ref, m, vs)
	})
}

// checkResolved checks that m is what ref names.
func checkResolved(t *testing.T, ref string, m *Model, vs []string) {
	ref = strings.TrimSpace(ref)
	if name, label, ok := strings.Cut(ref, "@"); ok {
		want := map[string]string{"production": vs[0], "staging": vs[1], "champion": vs[2], "latest": vs[2]}[label]
		if name != "house" || m.Version != want {
			t.Fatalf("Resolve(%q) = %s of %s; want %q of house", ref, m.Version, m.Name, want)
		}
		return
	}
	name, v, ok := strings.Cut(ref, "/")
	if !ok {
		name, v = m.Name, ref
	}
	if m.Name != name || !strings.HasPrefix(m.Version, v) || !slices.Contains(vs, m.Version) {
		t.Fatalf("Resolve(%q) = %s of %s: not a version of %s starting %q", ref, m.Version, m.Name, name, v)
	}
}
