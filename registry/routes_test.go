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

func TestParseSplit(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []Share
		ok   bool
	}{
		{"a=90,b=10", []Share{{"a", 90}, {"b", 10}}, true},
		{" production=1 ", []Share{{"production", 1}}, true},
		{"a=0,b=0", nil, false},
		{"a=-1,b=2", nil, false},
		{"a=1.5", nil, false},
		{"a=1,a=2", nil, false},
		{"a =5,a=3", nil, false},
		{"a=5,@a=5", nil, false},
		{" a = 5 , b=1", []Share{{"a", 5}, {"b", 1}}, true},
		{"a", nil, false},
		{"=3", nil, false},
		{"a=1000000,b=1", []Share{{"a", MaxWeight}, {"b", 1}}, true},
		{"a=1000001,b=1", nil, false},
		{"a=9223372036854775807,b=9223372036854775807,c=9223372036854775807", nil, false},
	} {
		got, err := ParseSplit(c.in)
		if (err == nil) != c.ok || !slices.Equal(got, c.want) {
			t.Errorf("ParseSplit(%q) = %v, %v; want %v, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}

// TestRoutePlan sets a route of labels and versions and checks the plan
// follows promotions, drops removed aliases, and that a bad target is
// refused without touching the record.
func TestRoutePlan(t *testing.T) {
	ctx := context.Background()
	r := newTestRegistry(t, storetest.SQLite(t))
	v1, v2, v3 := mustRegister(t, r, named("churn", "d1", true)), mustRegister(t, r, named("churn", "d2", true)), mustRegister(t, r, named("churn", "d3", true))
	mustPromote := func(v string) {
		t.Helper()
		if _, err := r.Promote(ctx, v, Production, PromoteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	mustPromote(v1)
	if _, err := r.SetAlias(ctx, "churn", "challenger", v2, PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	e, err := r.SetRoute(ctx, "churn", Route{Split: []Share{{"production", 90}, {"challenger", 10}}, Shadow: []string{v3[:6]}, Key: "id"}, PromoteOptions{})
	if err != nil || e.Action != "route" {
		t.Fatalf("SetRoute: %+v %v", e, err)
	}
	p, err := r.Plan(ctx, "churn")
	want := []PlanShare{{"@production", v1, 90}, {"@challenger", v2, 10}}
	if err != nil || p.Production != v1 || !slices.Equal(p.Split, want) || !slices.Equal(p.Shadow, []string{v3}) || p.Key != "id" {
		t.Fatalf("plan %+v %v", p, err)
	}
	if got := p.Versions(); !slices.Equal(got, []string{v1, v2, v3}) {
		t.Errorf("Versions = %v", got)
	}
	mustPromote(v3) // the production share follows
	if _, err := r.RemoveAlias(ctx, "churn", "challenger", PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	p, _ = r.Plan(ctx, "churn")
	if !slices.Equal(p.Split, []PlanShare{{"@production", v3, 90}}) {
		t.Errorf("after promote and unalias: %+v", p.Split)
	}
	// The shadow, v3, serves now: shadowing it would send each request
	// to v3 twice.
	if len(p.Shadow) != 0 {
		t.Errorf("after v3's promotion the plan still shadows %v", p.Shadow)
	}
	for _, bad := range []struct {
		rt   Route
		want string
	}{
		{Route{Key: "id"}, "has no split"},
		{Route{Shadow: []string{"production"}}, "serves the traffic already"},
		{Route{Split: []Share{{"production", 1}, {v2, 1}}, Shadow: []string{v2[:6]}}, "serves the traffic already"},
	} {
		if _, err := r.SetRoute(ctx, "churn", bad.rt, PromoteOptions{}); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("SetRoute(%+v): %v; want an error saying it %s", bad.rt, err, bad.want)
		}
	}
	if _, err := r.SetRoute(ctx, "churn", Route{Split: []Share{{"nosuch", 1}}}, PromoteOptions{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("bad target: %v", err)
	}
	if _, err := r.SetRoute(ctx, "churn", Route{Split: []Share{{"production", 50}, {"staging", 50}}}, PromoteOptions{}); !errors.Is(err, ErrNoStaging) {
		t.Errorf("staging share with no staging version: %v; want ErrNoStaging", err)
	}
	if rt, _ := r.RouteOf(ctx, "churn"); rt.Key != "id" {
		t.Errorf("a refused route changed the record: %+v", rt)
	}
	if _, err := r.SetRoute(ctx, "churn", Route{}, PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	if p, _ := r.Plan(ctx, "churn"); len(p.Split) != 0 || len(p.Shadow) != 0 {
		t.Errorf("cleared route still routes: %+v", p)
	}
}

// TestRouteTargetsProtected: a version a route names by id cannot be
// deleted (gc, runs rm): a server would fail to load it. Until routes
// were protected, deleting one took the route's arm, and with it the
// name, off every server started after.
func TestRouteTargetsProtected(t *testing.T) {
	ctx := context.Background()
	r := newTestRegistry(t, storetest.SQLite(t))
	v1, v2, v3 := mustRegister(t, r, named("churn", "d1", true)), mustRegister(t, r, named("churn", "d2", true)), mustRegister(t, r, named("churn", "d3", true))
	if _, err := r.Promote(ctx, v1, Production, PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetRoute(ctx, "churn", Route{Split: []Share{{"production", 90}, {v2, 10}}, Shadow: []string{v3}}, PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{v2, v3} {
		if err := r.Delete(ctx, v); !errors.Is(err, ErrProtected) || !strings.Contains(err.Error(), "churn route") {
			t.Errorf("Delete(%s) named by the route: %v; want ErrProtected naming the route", v, err)
		}
	}
	if _, err := r.SetRoute(ctx, "churn", Route{}, PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx, v2); err != nil {
		t.Errorf("Delete after the route was cleared: %v", err)
	}
}

// TestPromoteConditions: a Check that refuses keeps a version out of
// production, staging and a rollback; an Expect that is no longer the
// production version refuses the promotion. Nothing changes either way.
func TestPromoteConditions(t *testing.T) {
	ctx := context.Background()
	r := newTestRegistry(t, storetest.SQLite(t))
	v1, v2, v3 := mustRegister(t, r, named("churn", "d1", true)), mustRegister(t, r, named("churn", "d2", true)), mustRegister(t, r, named("churn", "d3", true))
	broken := errors.New("artifact is gone")
	refuse := func(v string) func(context.Context, *Model) error {
		return func(_ context.Context, m *Model) error {
			if m.Version == v {
				return broken
			}
			return nil
		}
	}
	for _, v := range []string{v1, v2} {
		if _, err := r.Promote(ctx, v, Production, PromoteOptions{Check: refuse(v3)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, stage := range []Stage{Production, Staging} {
		if _, err := r.Promote(ctx, v3, stage, PromoteOptions{Check: refuse(v3)}); !errors.Is(err, ErrCheckFailed) || !errors.Is(err, broken) {
			t.Errorf("promote to %s a version the check refuses: %v; want ErrCheckFailed", stage, err)
		}
	}
	if _, err := r.Promote(ctx, v3, Archived, PromoteOptions{Check: refuse(v3)}); err != nil {
		t.Errorf("archiving is not checked: %v", err)
	}
	if _, err := r.Rollback(ctx, "churn", PromoteOptions{Check: refuse(v1)}); !errors.Is(err, ErrCheckFailed) {
		t.Errorf("rollback to a version the check refuses: %v; want ErrCheckFailed", err)
	}
	if _, err := r.Promote(ctx, v3, Production, PromoteOptions{Expect: v1}); !errors.Is(err, ErrProductionChanged) {
		t.Errorf("promote expecting %s while %s is in production: %v; want ErrProductionChanged", v1, v2, err)
	}
	if p, _ := r.Production(ctx, "churn"); p.Version != v2 {
		t.Errorf("production is %s after refused changes; want %s", p.Version, v2)
	}
	if s, err := r.Resolve(ctx, "churn@staging"); err == nil {
		t.Errorf("staging holds %s after a refused promotion", s.Version)
	}
	if _, err := r.Promote(ctx, v3, Production, PromoteOptions{Expect: v2}); err != nil {
		t.Errorf("promote expecting the production version: %v", err)
	}
}
