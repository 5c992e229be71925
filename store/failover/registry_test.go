package failover_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store/failover"
	"github.com/tabforge/tabforge/store/redis/redistest"
)

// TestOutageKeepsRegistry registers a model version while Redis is down:
// the registry, reading the fallback, finds no record of the model's name
// and writes a new, empty one. Replayed over Redis's, that record used to
// wipe the name's production stage and aliases. Now Redis's record is
// kept and reported as a conflict, while what the outage added (the new
// version, a new record) reaches Redis.
func TestOutageKeepsRegistry(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	fb := filepath.Join(t.TempDir(), "fallback.db")
	s := openOnRedis(t, srv, fb)
	register := func(reg *registry.Registry, dataset string) string {
		t.Helper()
		m, _, err := reg.Register(ctx, registry.Model{Name: "houses",
			Identity: registry.Identity{DatasetHash: dataset, ConfigHash: "c0ffee", Seed: 42, CodeVersion: "test"},
			Family:   "gbdt", Artifact: artifact.Ref{URL: "mem://", Key: "models/" + dataset + ".tfm", SHA256: "00"}, Deployable: true})
		if err != nil {
			t.Fatal(err)
		}
		return m.Version
	}
	reg := registry.New(s)
	v1 := register(reg, "sales-2024")
	if _, err := reg.Promote(ctx, v1, registry.Production, registry.PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.SetAlias(ctx, "houses", "champion", v1, registry.PromoteOptions{}); err != nil {
		t.Fatal(err)
	}

	srv.Kill()
	v2 := register(reg, "sales-2025")
	if err := s.PutRecord(ctx, "log", "outage", []byte("written during the outage")); err != nil {
		t.Fatal(err)
	}
	if !s.(*failover.Store).Down() {
		t.Fatal("the store did not fail over")
	}
	s.Close()

	srv.Restart(t)
	s2, err := failover.Open(ctx, srv.URL(), failover.Options{Fallback: fb, Logger: quiet(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	n, err := s2.(*failover.Store).Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Conflicts) != 1 || n.Conflicts[0] != registry.KindName+"/houses" {
		t.Errorf("conflicts %v; want the name record houses alone", n.Conflicts)
	}
	reg2 := registry.New(s2)
	if p, err := reg2.Production(ctx, "houses"); err != nil || p.Version != v1 {
		t.Fatalf("production after the replay = %v, %v; want %s", p, err, v1)
	}
	if m, err := reg2.Resolve(ctx, "houses@champion"); err != nil || m.Version != v1 {
		t.Errorf("houses@champion after the replay = %v, %v; want %s", m, err, v1)
	}
	if m, err := reg2.Get(ctx, v2); err != nil || m.Name != "houses" {
		t.Errorf("the version registered during the outage = %v, %v; want it on redis", m, err)
	}
	if r, err := s2.GetRecord(ctx, "log", "outage"); err != nil || string(r.Value) != "written during the outage" {
		t.Errorf("record written during the outage = %v, %v", r, err)
	}
	if left, _ := s2.(*failover.Store).Fallback().PendingWrites(ctx); len(left) != 0 {
		t.Errorf("%d journal entries left after the sync", len(left))
	}
}
