package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/storetest"
)

// newTestRegistry returns a registry whose clock ticks one second per
// reading, so orders by time are deterministic.
func newTestRegistry(t testing.TB, rec store.Swapper) *Registry {
	r := New(rec)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r.now = func() time.Time {
		clock = clock.Add(time.Second)
		return clock
	}
	return r
}

// model returns a registrable model whose identity differs by dataset.
func model(dataset string, deployable bool) Model {
	return Model{
		Name:        "house",
		Identity:    Identity{DatasetHash: dataset, ConfigHash: "cfg", Seed: 42, CodeVersion: "test"},
		RunID:       "run-" + dataset,
		DatasetPath: "data/" + dataset + ".csv",
		Family:      "gbdt",
		Task:        "regression",
		Metrics:     map[string]float64{"r2": 0.9},
		Artifact:    artifact.Ref{URL: "mem://", Key: "models/" + dataset + "/model.tfm", SHA256: "ab", Size: 2},
		Deployable:  deployable,
	}
}

func mustRegister(t testing.TB, r *Registry, m Model) string {
	t.Helper()
	got, created, err := r.Register(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Fatalf("Register(%s) reported an existing version", m.DatasetHash)
	}
	return got.Version
}

func TestID(t *testing.T) {
	base := Identity{DatasetHash: "d", ConfigHash: "c", Seed: 1, CodeVersion: "v"}
	id0, err := ID("", base)
	if err != nil {
		t.Fatal(err)
	}
	if len(id0) != 16 {
		t.Errorf("ID = %q; want 16 hex digits", id0)
	}
	if again, _ := ID("", base); again != id0 {
		t.Errorf("ID is not deterministic: %s then %s", id0, again)
	}
	cases := []struct {
		name    string
		change  func(*Identity)
		wantErr bool
	}{
		{"dataset", func(i *Identity) { i.DatasetHash = "d2" }, false},
		{"config", func(i *Identity) { i.ConfigHash = "c2" }, false},
		{"seed", func(i *Identity) { i.Seed = 2 }, false},
		{"code", func(i *Identity) { i.CodeVersion = "v2" }, false},
		{"field boundary", func(i *Identity) { i.DatasetHash, i.ConfigHash = "dc", "" }, true},
		{"no dataset", func(i *Identity) { i.DatasetHash = "" }, true},
		{"no code version", func(i *Identity) { i.CodeVersion = "" }, true},
	}
	for _, tc := range cases {
		id := base
		tc.change(&id)
		got, err := ID("", id)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: ID error = %v; want error %v", tc.name, err, tc.wantErr)
			continue
		}
		if err == nil && got == id0 {
			t.Errorf("%s: changing it kept the id %s", tc.name, got)
		}
	}
	// The name is part of the id: one training registered under two
	// names is two versions.
	churn, _ := ID("churn", base)
	house, _ := ID("house", base)
	if churn == id0 || house == id0 || churn == house {
		t.Errorf("ID ignores the name: %s %s %s", id0, churn, house)
	}
	// Fields are separated, so moving text between them changes the id.
	a, _ := ID("", Identity{DatasetHash: "ab", ConfigHash: "c", CodeVersion: "v"})
	b, _ := ID("", Identity{DatasetHash: "a", ConfigHash: "bc", CodeVersion: "v"})
	if a == b {
		t.Error("ID does not separate its fields")
	}
}

func TestRegister(t *testing.T) {
	ctx := context.Background()
	r := newTestRegistry(t, storetest.SQLite(t))
	m := model("d1", true)
	got, created, err := r.Register(ctx, m)
	if err != nil || !created {
		t.Fatalf("Register = %v, %v", created, err)
	}
	want, _ := ID(m.Name, m.Identity)
	if got.Version != want || got.Stage != None || got.Created.IsZero() {
		t.Errorf("Register = %+v", got)
	}

	// The same identity from another run keeps the first record and
	// remembers the run.
	again := m
	again.RunID = "run-later"
	again.Artifact.Key, again.Artifact.SHA256 = "models/other.tfm", "cd"
	got2, created, err := r.Register(ctx, again)
	if err != nil || created {
		t.Fatalf("re-Register = %v, %v; want existing", created, err)
	}
	if got2.RunID != m.RunID || got2.Artifact != m.Artifact || len(got2.Runs) != 1 || got2.Runs[0] != "run-later" || !got2.Created.Equal(got.Created) {
		t.Errorf("re-Register changed the version: %+v", got2)
	}
	if _, _, err := r.Register(ctx, again); err != nil {
		t.Fatal(err)
	}
	if g, _ := r.Get(ctx, want); len(g.Runs) != 1 {
		t.Errorf("replayed Register duplicated the run: %v", g.Runs)
	}

	bad := []struct {
		name string
		m    Model
		want string
	}{
		{"no artifact", func() Model { x := model("d2", true); x.Artifact = artifact.Ref{}; return x }(), "no checksummed artifact"},
		{"wrong version", func() Model { x := model("d3", true); x.Version = "0000000000000000"; return x }(), "does not match its name and identity"},
		{"no name", Model{RunID: "r"}, "model name"},
		{"no identity", Model{Name: "house", RunID: "r"}, "needs a dataset hash"},
		{"bad name", func() Model { x := model("d4", true); x.Name = "a@b"; return x }(), "model name"},
	}
	for _, tc := range bad {
		if _, _, err := r.Register(ctx, tc.m); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Register error = %v; want %q", tc.name, err, tc.want)
		}
	}
}

// TestStages walks a registry through promotions and rollbacks, checking
// after each step who is in production and staging and every model's
// derived stage.
func TestStages(t *testing.T) {
	ctx := context.Background()
	r := newTestRegistry(t, storetest.SQLite(t))
	v := map[string]string{}
	for _, d := range []string{"a", "b", "c"} {
		v[d] = mustRegister(t, r, model(d, true))
	}
	v["bad"] = mustRegister(t, r, model("bad", false))

	type step struct {
		name    string
		op      string // promote, rollback
		model   string
		stage   Stage
		force   bool
		wantErr error // errors.Is target; nil means success
		noop    bool
		prod    string // model names; "" means none
		staging string
		stages  map[string]Stage
	}
	steps := []step{
		{name: "fresh registry", op: "none", stages: map[string]Stage{"a": None, "b": None, "c": None, "bad": None}},
		{name: "rollback with nothing in production", op: "rollback", wantErr: ErrNoProduction},
		{name: "stage a", op: "promote", model: "a", stage: Staging, staging: "a", stages: map[string]Stage{"a": Staging, "b": None}},
		{name: "a to production leaves staging", op: "promote", model: "a", stage: Production, prod: "a", stages: map[string]Stage{"a": Production}},
		{name: "rollback with no previous", op: "rollback", wantErr: ErrNoPrevious, prod: "a"},
		{name: "b to production", op: "promote", model: "b", stage: Production, prod: "b", stages: map[string]Stage{"a": Archived, "b": Production}},
		{name: "b again is a no-op", op: "promote", model: "b", stage: Production, noop: true, prod: "b"},
		{name: "c to production", op: "promote", model: "c", stage: Production, prod: "c"},
		{name: "non-deployable refused", op: "promote", model: "bad", stage: Production, wantErr: ErrNotDeployable, prod: "c"},
		{name: "non-deployable may be staged", op: "promote", model: "bad", stage: Staging, prod: "c", staging: "bad"},
		{name: "production cannot be staged", op: "promote", model: "c", stage: Staging, wantErr: errAny, prod: "c", staging: "bad"},
		{name: "production cannot be archived", op: "promote", model: "c", stage: Archived, wantErr: errAny, prod: "c", staging: "bad"},
		{name: "rollback to b", op: "rollback", prod: "b", staging: "bad", stages: map[string]Stage{"c": Archived, "b": Production}},
		{name: "rollback to a", op: "rollback", prod: "a", staging: "bad"},
		{name: "rollback stack empty", op: "rollback", wantErr: ErrNoPrevious, prod: "a", staging: "bad"},
		{name: "forced non-deployable", op: "promote", model: "bad", stage: Production, force: true, prod: "bad", stages: map[string]Stage{"bad": Production, "a": Archived}},
		{name: "rollback undoes the forced one", op: "rollback", prod: "a", stages: map[string]Stage{"bad": Archived}},
		{name: "stage archived c", op: "promote", model: "c", stage: Staging, prod: "a", staging: "c", stages: map[string]Stage{"c": Staging}},
		{name: "archive c from staging", op: "promote", model: "c", stage: Archived, prod: "a", stages: map[string]Stage{"c": Archived}},
		{name: "unknown version", op: "promote", model: "nosuch", stage: Production, wantErr: store.ErrNotFound, prod: "a"},
		{name: "archive b", op: "promote", model: "b", stage: Archived, prod: "a", noop: true, stages: map[string]Stage{"b": Archived}},
	}
	events := 0
	for _, s := range steps {
		var e *Event
		var err error
		switch s.op {
		case "promote":
			ver := v[s.model]
			if ver == "" {
				ver = "ffffffffffffffff"
			}
			e, err = r.Promote(ctx, ver, s.stage, PromoteOptions{Force: s.force, Reason: s.name})
		case "rollback":
			e, err = r.Rollback(ctx, "house", PromoteOptions{Reason: s.name})
		}
		switch {
		case s.wantErr == nil && err != nil:
			t.Fatalf("%s: %v", s.name, err)
		case s.wantErr != nil && err == nil:
			t.Fatalf("%s: succeeded; want error %v", s.name, s.wantErr)
		case s.wantErr != nil && s.wantErr != errAny && !errors.Is(err, s.wantErr):
			t.Fatalf("%s: error %v; want %v", s.name, err, s.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error is not one line: %q", s.name, err)
		}
		if s.op != "none" && err == nil {
			if s.noop != (e == nil) {
				t.Errorf("%s: event %+v; want no-op %v", s.name, e, s.noop)
			}
			if e != nil {
				events++
				if e.Forced != s.force {
					t.Errorf("%s: event forced = %v", s.name, e.Forced)
				}
			}
		}
		prod, perr := r.Production(ctx, "house")
		switch {
		case s.prod == "" && !errors.Is(perr, ErrNoProduction):
			t.Errorf("%s: Production = %v, %v; want none", s.name, prod, perr)
		case s.prod != "" && (perr != nil || prod.Version != v[s.prod]):
			t.Errorf("%s: Production = %v, %v; want %s", s.name, prod, perr, s.prod)
		}
		all, err := r.List(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		byVersion := map[string]*Model{}
		for _, m := range all {
			byVersion[m.Version] = m
		}
		for name, want := range s.stages {
			if got := byVersion[v[name]].Stage; got != want {
				t.Errorf("%s: stage of %s = %s; want %s", s.name, name, got, want)
			}
		}
		var inStaging []string
		for name, ver := range v {
			if byVersion[ver].Stage == Staging {
				inStaging = append(inStaging, name)
			}
		}
		if want := s.staging; (want == "" && len(inStaging) != 0) || (want != "" && (len(inStaging) != 1 || inStaging[0] != want)) {
			t.Errorf("%s: staging holds %v; want %q", s.name, inStaging, want)
		}
	}
	h, err := r.History(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != events {
		t.Errorf("history has %d events; want one per change, %d", len(h), events)
	}
	for i := 1; i < len(h); i++ {
		if !h[i].Time.After(h[i-1].Time) {
			t.Errorf("history out of order at %d: %v then %v", i, h[i-1].Time, h[i].Time)
		}
	}
	ha, err := r.History(ctx, v["a"])
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ha {
		if e.Version != v["a"] && e.Replaced != v["a"] {
			t.Errorf("History(a) holds an event of others: %+v", e)
		}
	}
}

// errAny marks a step that must fail without naming a sentinel.
var errAny = errors.New("any error")

func TestUnknownVersion(t *testing.T) {
	ctx := context.Background()
	r := newTestRegistry(t, storetest.SQLite(t))
	va := mustRegister(t, r, model("a", true))
	cases := []struct {
		name string
		call func(v string) error
	}{
		{"promote", func(v string) error { _, err := r.Promote(ctx, v, Production, PromoteOptions{}); return err }},
		{"show", func(v string) error { _, err := r.Show(ctx, v); return err }},
		{"get", func(v string) error { _, err := r.Get(ctx, v); return err }},
		{"history", func(v string) error { _, err := r.History(ctx, v); return err }},
	}
	for _, tc := range cases {
		for _, v := range []string{"0123456789abcdef", "zz", "", va + "0"} {
			if v == "" && tc.name == "history" {
				continue // History("") is the whole history
			}
			err := tc.call(v)
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s(%q) error = %v; want store.ErrNotFound", tc.name, v, err)
				continue
			}
			if v != "" && !strings.Contains(err.Error(), v) {
				t.Errorf("%s(%q) error %q does not name the version", tc.name, v, err)
			}
		}
	}
	if _, err := r.Promote(ctx, va, Stage("qa"), PromoteOptions{}); err == nil || !strings.Contains(err.Error(), `"qa"`) {
		t.Errorf("Promote to an unknown stage: %v", err)
	}
	if p, err := r.Production(ctx, "house"); !errors.Is(err, ErrNoProduction) {
		t.Errorf("unknown version changed production: %v, %v", p, err)
	}
}

func TestPrefix(t *testing.T) {
	ctx := context.Background()
	r := newTestRegistry(t, storetest.SQLite(t))
	var vs []string
	for i := range 40 {
		vs = append(vs, mustRegister(t, r, model(fmt.Sprint("d", i), true)))
	}
	m, err := r.Get(ctx, vs[7][:8])
	if err != nil || m.Version != vs[7] {
		t.Errorf("Get(prefix) = %v, %v; want %s", m, err, vs[7])
	}
	if _, err := r.Get(ctx, vs[0][:3]); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(3-char prefix) error = %v; want not found (prefixes need 4 characters)", err)
	}
	// Find two identities whose versions share 4 leading digits (ids are
	// deterministic, so this search is too) and check the prefix is refused.
	byPrefix := map[string]string{}
	for i := 0; ; i++ {
		d := fmt.Sprint("x", i)
		id, _ := ID("house", model(d, true).Identity)
		other, ok := byPrefix[id[:4]]
		if !ok {
			byPrefix[id[:4]] = d
			continue
		}
		mustRegister(t, r, model(d, true))
		mustRegister(t, r, model(other, true))
		if _, err := r.Get(ctx, id[:4]); !errors.Is(err, ErrAmbiguous) {
			t.Errorf("Get(%q) shared by two versions = %v; want ErrAmbiguous", id[:4], err)
		}
		if m, err := r.Get(ctx, id); err != nil || m.Version != id {
			t.Errorf("Get(full id) = %v, %v", m, err)
		}
		break
	}
}

// TestStateLivesInRecords copies every record of the registry's kinds to
// a second, fresh store (what export/import does) and checks that the
// copy answers exactly like the original.
func TestStateLivesInRecords(t *testing.T) {
	ctx := context.Background()
	src := storetest.SQLite(t)
	r := newTestRegistry(t, src)
	va := mustRegister(t, r, model("a", true))
	vb := mustRegister(t, r, model("b", true))
	mustRegister(t, r, model("c", false))
	for _, step := range []func() (*Event, error){
		func() (*Event, error) { return r.Promote(ctx, va, Production, PromoteOptions{}) },
		func() (*Event, error) { return r.Promote(ctx, vb, Production, PromoteOptions{}) },
		func() (*Event, error) { return r.Rollback(ctx, "house", PromoteOptions{Reason: "bad latency"}) },
		func() (*Event, error) { return r.Promote(ctx, vb, Staging, PromoteOptions{}) },
	} {
		if _, err := step(); err != nil {
			t.Fatal(err)
		}
	}
	dst := storetest.SQLite(t)
	for _, kind := range []string{KindModel, KindName, KindEvent} {
		recs, err := src.ListRecords(ctx, kind, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range recs {
			if err := dst.PutRecord(ctx, kind, rec.Key, rec.Value); err != nil {
				t.Fatal(err)
			}
		}
	}
	r2 := New(dst)
	want, got := snapshot(t, r), snapshot(t, r2)
	if got != want {
		t.Errorf("copied registry differs:\n got %s\nwant %s", got, want)
	}
	// And the copy keeps working: its rollback stack came along.
	if _, err := r2.Rollback(ctx, "house", PromoteOptions{}); !errors.Is(err, ErrNoPrevious) {
		t.Errorf("rollback on copy = %v; want ErrNoPrevious (a was first)", err)
	}
	if _, err := r2.Promote(ctx, vb, Production, PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r2.Rollback(ctx, "house", PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	if p, err := r2.Production(ctx, "house"); err != nil || p.Version != va {
		t.Errorf("copy after promote+rollback: production = %v, %v; want a", p, err)
	}
}

func snapshot(t *testing.T, r *Registry) string {
	t.Helper()
	ctx := context.Background()
	all, err := r.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	h, err := r.History(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.Production(ctx, "house")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, m := range all {
		fmt.Fprintf(&b, "%s:%s:%s:%v ", m.Version, m.Stage, m.RunID, m.Created.UnixNano())
	}
	for _, e := range h {
		fmt.Fprintf(&b, "%s:%s:%s:%s:%d ", e.Action, e.Version, e.Stage, e.Replaced, e.Time.UnixNano())
	}
	fmt.Fprintf(&b, "prod=%s", p.Version)
	return b.String()
}

func TestShowLineage(t *testing.T) {
	ctx := context.Background()
	r := newTestRegistry(t, storetest.SQLite(t))
	m := model("a", true)
	m.Config = []byte(`{"target":"price","seed":42}`)
	va := mustRegister(t, r, m)
	if _, err := r.Promote(ctx, va, Production, PromoteOptions{Reason: "first"}); err != nil {
		t.Fatal(err)
	}
	d, err := r.Show(ctx, va[:6])
	if err != nil {
		t.Fatal(err)
	}
	l := d.Lineage
	if l.Version != va || l.RunID != "run-a" || l.DatasetHash != "a" || l.DatasetPath != "data/a.csv" || l.ConfigHash != "cfg" ||
		string(l.Config) != string(m.Config) || l.Seed != 42 || l.CodeVersion != "test" || l.Artifact != m.Artifact {
		t.Errorf("lineage = %+v", l)
	}
	if d.Model.Stage != Production || len(d.History) != 1 || d.History[0].Reason != "first" {
		t.Errorf("Show = %+v, history %+v", d.Model, d.History)
	}
}

// TestRollbackTime logs how long a rollback takes on a real SQLite store
// holding many versions and events; BenchmarkRollback measures it
// properly. Its cost does not grow with the registry (two records written).
func TestRollbackTime(t *testing.T) {
	ctx := context.Background()
	r := New(storetest.SQLite(t))
	var vs []string
	for i := range 200 {
		vs = append(vs, mustRegister(t, r, model(fmt.Sprint("m", i), true)))
	}
	for _, v := range vs {
		if _, err := r.Promote(ctx, v, Production, PromoteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	e, err := r.Rollback(ctx, "house", PromoteOptions{})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.Production(ctx, "house")
	if err != nil || p.Version != vs[198] || e.Version != vs[198] || e.Replaced != vs[199] {
		t.Fatalf("after rollback production = %v, %v; want the 199th version", p, err)
	}
	t.Logf("rollback with 200 versions and 200 events: %v (took effect after %.3f ms)", took, e.Seconds*1000)
}

func BenchmarkRollback(b *testing.B) {
	ctx := context.Background()
	r := New(storetest.SQLite(b))
	var vs []string
	for i := range 50 {
		vs = append(vs, mustRegister(b, r, model(fmt.Sprint("m", i), true)))
	}
	for _, v := range vs {
		if _, err := r.Promote(ctx, v, Production, PromoteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	var total time.Duration
	n := 0
	for b.Loop() {
		start := time.Now()
		if _, err := r.Rollback(ctx, "house", PromoteOptions{}); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		n++
		// Put the rolled-back version back, so the stack never runs dry.
		if _, err := r.Promote(ctx, vs[len(vs)-1], Production, PromoteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(total.Microseconds())/float64(n), "µs/rollback")
}

func BenchmarkProduction(b *testing.B) {
	ctx := context.Background()
	r := New(storetest.SQLite(b))
	v := mustRegister(b, r, model("m", true))
	if _, err := r.Promote(ctx, v, Production, PromoteOptions{}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := r.Production(ctx, "house"); err != nil {
			b.Fatal(err)
		}
	}
}
