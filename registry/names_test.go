package registry

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/redis/redistest"
	"github.com/tabforge/tabforge/store/storetest"
)

// backends opens each real store the registry must work on: SQLite in a
// temporary directory, and Redis ($TABFORGE_TEST_REDIS, or a private
// redis-server started for the test).
func backends() []struct {
	name string
	open func(t *testing.T) store.Swapper
} {
	return []struct {
		name string
		open func(t *testing.T) store.Swapper
	}{
		{"sqlite", func(t *testing.T) store.Swapper { return storetest.SQLite(t) }},
		{"redis", func(t *testing.T) store.Swapper {
			st, err := redis.Open(context.Background(), redistest.URL(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}},
	}
}

func named(name, dataset string, deployable bool) Model {
	m := model(dataset, deployable)
	m.Name = name
	return m
}

// TestNamesAreIndependent promotes, stages, aliases and rolls back two
// names on each backend and checks after every step that the other name's
// production, staging, aliases and history are untouched.
func TestNamesAreIndependent(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			r := newTestRegistry(t, b.open(t))
			h1, h2, h3 := mustRegister(t, r, named("house", "h1", true)), mustRegister(t, r, named("house", "h2", true)), mustRegister(t, r, named("house", "h3", true))
			c1, c2 := mustRegister(t, r, named("churn", "c1", true)), mustRegister(t, r, named("churn", "c2", true))

			want := map[string]string{} // reference → version it must resolve to
			check := func(step string) {
				t.Helper()
				for ref, v := range want {
					m, err := r.Resolve(ctx, ref)
					if err != nil || m.Version != v {
						t.Fatalf("%s: Resolve(%s) = %v, %v; want %s", step, ref, m, err, v)
					}
				}
			}
			// do runs one step, then expects ref to resolve to version,
			// and every earlier expectation to hold still.
			do := func(step string, f func() (*Event, error), ref, version string) {
				t.Helper()
				if _, err := f(); err != nil {
					t.Fatalf("%s: %v", step, err)
				}
				want[ref] = version
				check(step)
			}
			do("house h1 to production", func() (*Event, error) { return r.Promote(ctx, h1, Production, PromoteOptions{}) }, "house@production", h1)
			do("churn c1 to production", func() (*Event, error) { return r.Promote(ctx, c1, Production, PromoteOptions{}) }, "churn@production", c1)
			do("house h2 to production", func() (*Event, error) { return r.Promote(ctx, h2, Production, PromoteOptions{}) }, "house@production", h2)
			do("churn c2 to staging", func() (*Event, error) { return r.Promote(ctx, c2, Staging, PromoteOptions{}) }, "churn@staging", c2)
			do("house champion", func() (*Event, error) { return r.SetAlias(ctx, "house", "champion", h1, PromoteOptions{}) }, "house@champion", h1)
			do("churn champion", func() (*Event, error) { return r.SetAlias(ctx, "churn", "champion", "churn@staging", PromoteOptions{}) }, "churn@champion", c2)
			do("house h3 to production", func() (*Event, error) { return r.Promote(ctx, h3, Production, PromoteOptions{}) }, "house@production", h3)
			do("rollback house", func() (*Event, error) { return r.Rollback(ctx, "house", PromoteOptions{}) }, "house@production", h2)
			do("rollback house again", func() (*Event, error) { return r.Rollback(ctx, "house", PromoteOptions{}) }, "house@production", h1)
			// house's stack is empty; churn's was never pushed: neither
			// rollback reaches into the other name.
			if _, err := r.Rollback(ctx, "house", PromoteOptions{}); !errors.Is(err, ErrNoPrevious) {
				t.Errorf("third house rollback = %v; want ErrNoPrevious", err)
			}
			if _, err := r.Rollback(ctx, "churn", PromoteOptions{}); !errors.Is(err, ErrNoPrevious) {
				t.Errorf("churn rollback = %v; want ErrNoPrevious (house's versions are not churn's)", err)
			}
			check("failed rollbacks")

			for name, wantEvents := range map[string]int{"house": 6, "churn": 3} {
				h, err := r.History(ctx, name)
				if err != nil || len(h) != wantEvents {
					t.Errorf("History(%s) = %d events, %v; want %d", name, len(h), err, wantEvents)
				}
				for _, e := range h {
					if e.Name != name {
						t.Errorf("History(%s) holds %+v", name, e)
					}
				}
			}
			ms, err := r.List(ctx, "churn")
			if err != nil || len(ms) != 2 {
				t.Fatalf("List(churn) = %v, %v", ms, err)
			}
			for _, m := range ms {
				wantStage, wantAliases := Production, ""
				if m.Version == c2 {
					wantStage, wantAliases = Staging, "champion"
				}
				if m.Name != "churn" || m.Stage != wantStage || strings.Join(m.Aliases, ",") != wantAliases {
					t.Errorf("List(churn): %s stage %s aliases %v; want %s %q", m.Version, m.Stage, m.Aliases, wantStage, wantAliases)
				}
			}
			all, err := r.List(ctx, "")
			if err != nil || len(all) != 5 || all[0].Name != "churn" || all[4].Name != "house" || all[2].Version != h3 {
				t.Errorf("List() is not grouped by name, newest first: %v, %v", all, err)
			}
			if names, err := r.Names(ctx); err != nil || strings.Join(names, ",") != "churn,house" {
				t.Errorf("Names = %v, %v", names, err)
			}
		})
	}
}

func TestAliases(t *testing.T) {
	ctx := context.Background()
	r := newTestRegistry(t, storetest.SQLite(t))
	h1, h2 := mustRegister(t, r, named("house", "h1", true)), mustRegister(t, r, named("house", "h2", true))
	c1 := mustRegister(t, r, named("churn", "c1", true))
	cases := []struct {
		name       string
		op         func() (*Event, error)
		wantErr    string
		wantEvent  bool
		champion   string // version house@champion must resolve to; "" means none
		challenger string
	}{
		{"set champion", func() (*Event, error) { return r.SetAlias(ctx, "house", "champion", h1, PromoteOptions{}) }, "", true, h1, ""},
		{"same again is a no-op", func() (*Event, error) { return r.SetAlias(ctx, "house", "champion", h1[:6], PromoteOptions{}) }, "", false, h1, ""},
		{"challenger by NAME/VERSION", func() (*Event, error) {
			return r.SetAlias(ctx, "house", "challenger", "house/"+h2[:3], PromoteOptions{})
		}, "", true, h1, h2},
		{"move champion", func() (*Event, error) {
			return r.SetAlias(ctx, "house", "champion", h2, PromoteOptions{Reason: "won A/B"})
		}, "", true, h2, h2},
		{"version of another name", func() (*Event, error) { return r.SetAlias(ctx, "house", "champion", c1, PromoteOptions{}) }, `belongs to "churn"`, false, h2, h2},
		{"stage name", func() (*Event, error) { return r.SetAlias(ctx, "house", "production", h1, PromoteOptions{}) }, "is a stage name", false, h2, h2},
		{"latest is reserved", func() (*Event, error) { return r.SetAlias(ctx, "house", "latest", h1, PromoteOptions{}) }, "reserved", false, h2, h2},
		{"upper case", func() (*Event, error) { return r.SetAlias(ctx, "house", "Champion", h1, PromoteOptions{}) }, "lower-case", false, h2, h2},
		{"a version id", func() (*Event, error) { return r.SetAlias(ctx, "house", h2[:8], h1, PromoteOptions{}) }, "hex digits", false, h2, h2},
		{"unknown name", func() (*Event, error) { return r.SetAlias(ctx, "prices", "champion", h1, PromoteOptions{}) }, "unknown model name", false, h2, h2},
		{"remove challenger", func() (*Event, error) { return r.RemoveAlias(ctx, "house", "challenger", PromoteOptions{}) }, "", true, h2, ""},
		{"remove it again", func() (*Event, error) { return r.RemoveAlias(ctx, "house", "challenger", PromoteOptions{}) }, "unknown alias", false, h2, ""},
	}
	events := 0
	for _, tc := range cases {
		e, err := tc.op()
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v; want %q", tc.name, err, tc.wantErr)
			}
		} else if err != nil || (e != nil) != tc.wantEvent {
			t.Errorf("%s: event %+v, %v; want event %v", tc.name, e, err, tc.wantEvent)
		}
		if e != nil {
			events++
		}
		for alias, want := range map[string]string{"champion": tc.champion, "challenger": tc.challenger} {
			m, err := r.Resolve(ctx, "house@"+alias)
			switch {
			case want == "" && !errors.Is(err, ErrUnknownAlias):
				t.Errorf("%s: house@%s = %v, %v; want ErrUnknownAlias", tc.name, alias, m, err)
			case want != "" && (err != nil || m.Version != want):
				t.Errorf("%s: house@%s = %v, %v; want %s", tc.name, alias, m, err, want)
			}
		}
	}
	h, err := r.History(ctx, "house")
	if err != nil || len(h) != events {
		t.Fatalf("History(house) = %d events, %v; want %d", len(h), err, events)
	}
	if last := h[len(h)-1]; last.Action != "unalias" || last.Alias != "challenger" || last.Version != h2 {
		t.Errorf("last event %+v; want unalias challenger of %s", last, h2)
	}
	// Aliases alone never make a version archived.
	if m, err := r.Get(ctx, h1); err != nil || m.Stage != None {
		t.Errorf("h1 after alias changes: %v, %v; want stage none", m, err)
	}
}

// TestResolve resolves every form of model reference, and the errors for
// each way one can be wrong.
func TestResolve(t *testing.T) {
	ctx := context.Background()
	r := newTestRegistry(t, storetest.SQLite(t))
	h1, h2 := mustRegister(t, r, named("house", "h1", true)), mustRegister(t, r, named("house", "h2", true))
	c1 := mustRegister(t, r, named("churn", "c1", true))
	mustRegister(t, r, named("empty", "e1", true))
	for _, step := range []func() (*Event, error){
		func() (*Event, error) { return r.Promote(ctx, h1, Production, PromoteOptions{}) },
		func() (*Event, error) { return r.Promote(ctx, h2, Staging, PromoteOptions{}) },
		func() (*Event, error) { return r.SetAlias(ctx, "house", "champion", h1, PromoteOptions{}) },
		func() (*Event, error) { return r.Promote(ctx, c1, Production, PromoteOptions{}) },
	} {
		if _, err := step(); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		ref      string
		want     string // version, or "" for an error
		wantErr  error  // errors.Is target; nil means any error
		contains string // in the error
	}{
		{ref: "house@production", want: h1},
		{ref: "house@staging", want: h2},
		{ref: "house@champion", want: h1},
		{ref: "churn@production", want: c1},
		{ref: "house/" + h2, want: h2},
		{ref: "house/" + h2[:shortest(h2, h1)], want: h2}, // within a name, any unique prefix
		{ref: "house@latest", want: h2},
		{ref: "churn@latest", want: c1},
		{ref: h1, want: h1},
		{ref: h1[:5], want: h1},
		{ref: " " + c1 + " ", want: c1},
		{ref: "prices@production", wantErr: ErrUnknownName, contains: "registered names: amb, churn, empty, house"},
		{ref: "prices/" + h1, wantErr: ErrUnknownName},
		{ref: "house@champ", wantErr: ErrUnknownAlias, contains: "house has aliases champion"},
		{ref: "churn@champion", wantErr: ErrUnknownAlias, contains: "churn has no aliases"},
		{ref: "empty@production", wantErr: ErrNoProduction},
		{ref: "churn@staging", wantErr: ErrNoStaging},
		{ref: "house@archived", wantErr: ErrUnknownAlias, contains: "say house/VERSION"}, // 404 in the UI, not 500
		{ref: "house@none", wantErr: ErrUnknownAlias, contains: "say house/VERSION"},
		{ref: "house/" + c1, wantErr: store.ErrNotFound, contains: `it is a version of "churn"`},
		{ref: "house/ffff", wantErr: store.ErrNotFound},
		{ref: "house/", wantErr: store.ErrNotFound},
		{ref: "ffffffffffffffff", wantErr: store.ErrNotFound},
		{ref: "house", contains: "is a model name, not a version: say house@production"},
		// A word no version can be: a name misspelt, answered with the names
		// (it said only `unknown model version "houses": not found`).
		{ref: "houses", wantErr: store.ErrNotFound, contains: `"houses" is neither a model version nor a model name (registered names: amb, churn, empty, house)`},
		{ref: "houses", wantErr: ErrUnknownName},
		{ref: "", wantErr: store.ErrNotFound},
	}
	// Two versions of one name sharing a first digit make that digit an
	// ambiguous NAME/VERSION prefix; register until two do (ids are
	// deterministic, so the search is too).
	seen := map[byte]string{}
	for i := 0; ; i++ {
		m := named("amb", "a"+string(rune('a'+i%26))+strings.Repeat("x", i/26), true)
		v, _ := ID(m.Name, m.Identity)
		if other, ok := seen[v[0]]; ok {
			mustRegister(t, r, m)
			mustRegister(t, r, named("amb", other, true))
			cases = append(cases, struct {
				ref      string
				want     string
				wantErr  error
				contains string
			}{ref: "amb/" + v[:1], wantErr: ErrAmbiguous, contains: "matches 2 versions"})
			break
		}
		seen[v[0]] = m.DatasetHash
	}
	for _, tc := range cases {
		m, err := r.Resolve(ctx, tc.ref)
		if tc.want != "" {
			if err != nil || m.Version != tc.want {
				t.Errorf("Resolve(%q) = %v, %v; want %s", tc.ref, m, err, tc.want)
			}
			continue
		}
		switch {
		case err == nil:
			t.Errorf("Resolve(%q) = %s; want an error", tc.ref, m.Version)
		case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
			t.Errorf("Resolve(%q) error %v; want %v", tc.ref, err, tc.wantErr)
		case tc.contains != "" && !strings.Contains(err.Error(), tc.contains):
			t.Errorf("Resolve(%q) error %q; want it to say %q", tc.ref, err, tc.contains)
		}
	}
	if m, _ := r.Resolve(ctx, "house@champion"); m.Stage != Production || strings.Join(m.Aliases, ",") != "champion" {
		t.Errorf("house@champion stage %s aliases %v; want production [champion]", m.Stage, m.Aliases)
	}
}

// TestUnknownNameSaysItOnce: every unknown name lists the registered
// ones and says so once. `models list --name nosuch` said only
// `"nosuch": unknown model name`, and a reference that is no version and
// no name ended in "(registered names: ...): unknown model name: not
// found", repeating what it had just said.
func TestUnknownNameSaysItOnce(t *testing.T) {
	ctx := context.Background()
	r := newTestRegistry(t, storetest.SQLite(t))
	mustRegister(t, r, named("house", "h1", true))
	_, listErr := r.List(ctx, "nosuch")
	_, resolveErr := r.Resolve(ctx, "nosuch")
	for _, tc := range []struct {
		call string
		err  error
	}{{"List", listErr}, {"Resolve", resolveErr}} {
		if tc.err == nil || !errors.Is(tc.err, ErrUnknownName) || !strings.Contains(tc.err.Error(), "registered names: house") {
			t.Errorf("%s(nosuch) = %v; want ErrUnknownName listing the registered names", tc.call, tc.err)
		}
		if msg := tc.err.Error(); strings.Count(msg, "model name") != 1 || strings.Contains(msg, "not found") {
			t.Errorf("%s(nosuch) = %q; want the unknown name said once", tc.call, msg)
		}
	}
	if !errors.Is(resolveErr, store.ErrNotFound) {
		t.Errorf("Resolve(nosuch) = %v; want it to wrap store.ErrNotFound too", resolveErr)
	}
}

func TestNameFromPath(t *testing.T) {
	cases := []struct{ path, want string }{
		{"testdata/ames.csv", "ames"},
		{"/data/credit_data.csv", "credit_data"},
		{"sales.csv.gz", "sales"},
		{"mlc_churn.parquet", "mlc_churn"},
		{"my data (2024).csv", "my-data--2024-"},
		{"v1.2-model.csv", "v1.2-model"},
		{".hidden.csv", "hidden"},
		{"", "model"},
		{"@@@.csv", "model"},
	}
	for _, tc := range cases {
		if got := NameFromPath(tc.path); got != tc.want {
			t.Errorf("NameFromPath(%q) = %q; want %q", tc.path, got, tc.want)
		}
		if err := CheckName(NameFromPath(tc.path)); err != nil {
			t.Errorf("NameFromPath(%q) is not a valid name: %v", tc.path, err)
		}
	}
	for _, bad := range []string{"", "a@b", "a/b", "-a", strings.Repeat("n", 129), "a b"} {
		if CheckName(bad) == nil {
			t.Errorf("CheckName(%q) accepted it", bad)
		}
	}
}

// shortest returns the length of the shortest prefix of v that other
// does not share.
func shortest(v, other string) int {
	for i := range v {
		if v[i] != other[i] {
			return i + 1
		}
	}
	return len(v)
}
