package registry

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/store"
)

// legacy holds the versions of a store written in the layout before
// names: one store-wide production and staging record.
type legacy struct{ a1, a2, c1, tx string }

// writeLegacy writes, record by record, what the single-slot registry
// left after this history: c1 (churn) to production, a1 (ames) to
// production, a2 (ames) to production, c1 to staging. The production
// rollback stack then mixes both datasets: [a1 c1].
func writeLegacy(t *testing.T, rec store.Records) legacy {
	t.Helper()
	ctx := context.Background()
	when := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	put := func(kind, key string, v any) {
		t.Helper()
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := rec.PutRecord(ctx, kind, key, b); err != nil {
			t.Fatal(err)
		}
	}
	version := func(dataset, path, cfg string) string {
		id := Identity{DatasetHash: dataset, ConfigHash: "cfg", Seed: 42, CodeVersion: "0.1.0"}
		v, err := ID("", id)
		if err != nil {
			t.Fatal(err)
		}
		// The fields the old Model had, and no name.
		put(KindModel, v, map[string]any{
			"version": v, "dataset_hash": id.DatasetHash, "config_hash": id.ConfigHash, "seed": id.Seed, "code_version": id.CodeVersion,
			"run_id": "run-" + dataset, "dataset_path": path, "config": json.RawMessage(cfg), "task": "regression", "target": "y",
			"family": "gbdt", "artifact": artifact.Ref{URL: "mem://", Key: "models/" + v + ".tfm", SHA256: "ab"},
			"created": when, "deployable": true,
		})
		return v
	}
	l := legacy{
		a1: version("a1", "testdata/ames.csv", `{"data":"testdata/ames.csv"}`),
		a2: version("a2", "/abs/ames.csv", `{"data":"/abs/ames.csv"}`),
		c1: version("c1", "mlc_churn.csv", `{}`),
		tx: version("tx", "", `{"data":"data/txhousing.csv"}`),
	}
	events := []struct {
		v, stage, replaced string
	}{{l.c1, "production", ""}, {l.a1, "production", l.c1}, {l.a2, "production", l.a1}, {l.c1, "staging", ""}}
	for i, e := range events {
		at := when.Add(time.Duration(i+1) * time.Minute)
		put(KindEvent, at.Format("20060102150405")+"/"+e.v, map[string]any{
			"time": at, "action": "promote", "version": e.v, "stage": e.stage, "replaced": e.replaced, "seconds": 0.001})
	}
	put(KindStage, "production", map[string]any{"version": l.a2, "since": when, "previous": []string{l.a1, l.c1}})
	put(KindStage, "staging", map[string]any{"version": l.c1, "since": when})
	return l
}

// TestMigrate opens stores written in the single-slot layout (whole, and
// with a migration cut short after naming the versions) on each backend,
// and checks names, per-name stages, the split rollback stack, named
// events, and that migrating again changes nothing.
func TestMigrate(t *testing.T) {
	for _, b := range backends() {
		for _, cut := range []bool{false, true} {
			name := b.name
			if cut {
				name += "/resumed"
			}
			t.Run(name, func(t *testing.T) {
				ctx := context.Background()
				rec := b.open(t)
				l := writeLegacy(t, rec)
				if cut {
					if _, _, err := New(rec).nameModels(ctx, &Migration{}); err != nil {
						t.Fatal(err)
					}
				} else {
					mig, err := New(rec).Migrate(ctx)
					if err != nil || mig != (Migration{Models: 4, Slots: 2, Events: 4}) {
						t.Fatalf("Migrate = %+v, %v; want 4 models, 2 slots, 4 events", mig, err)
					}
				}
				r, err := Open(ctx, rec)
				if err != nil {
					t.Fatal(err)
				}
				checkMigrated(t, r, l)
				if again, err := r.Migrate(ctx); err != nil || again != (Migration{}) {
					t.Errorf("second Migrate = %+v, %v; want nothing to do", again, err)
				}
				if old, err := rec.ListRecords(ctx, KindStage, ""); err != nil || len(old) != 0 {
					t.Errorf("old stage records left: %v, %v", old, err)
				}
				checkMigrated(t, r, l)
				// Per name from now on: ames rolls back within ames only.
				if e, err := r.Rollback(ctx, "ames", PromoteOptions{}); err != nil || e.Version != l.a1 || e.Name != "ames" {
					t.Fatalf("rollback ames = %+v, %v; want a1", e, err)
				}
				if _, err := r.Rollback(ctx, "ames", PromoteOptions{}); !errors.Is(err, ErrNoPrevious) {
					t.Errorf("second rollback of ames = %v; want ErrNoPrevious (c1 is mlc_churn's)", err)
				}
			})
		}
	}
}

func checkMigrated(t *testing.T, r *Registry, l legacy) {
	t.Helper()
	ctx := context.Background()
	names, err := r.Names(ctx)
	if err != nil || len(names) != 3 || names[0] != "ames" || names[1] != "mlc_churn" || names[2] != "txhousing" {
		t.Fatalf("Names = %v, %v; want ames, mlc_churn, txhousing", names, err)
	}
	cases := []struct {
		ref     string
		want    string
		wantErr error
	}{
		{ref: "ames@production", want: l.a2},
		{ref: "ames/" + l.a1, want: l.a1},
		{ref: "mlc_churn@staging", want: l.c1},
		{ref: "mlc_churn@production", wantErr: ErrNoProduction},
		{ref: "txhousing/" + l.tx, want: l.tx},
		{ref: "ames/" + l.c1, wantErr: store.ErrNotFound},
	}
	for _, tc := range cases {
		m, err := r.Resolve(ctx, tc.ref)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("Resolve(%s) = %v, %v; want %v", tc.ref, m, err, tc.wantErr)
			}
		} else if err != nil || m.Version != tc.want {
			t.Errorf("Resolve(%s) = %v, %v; want %s", tc.ref, m, err, tc.want)
		}
	}
	stages := map[string]Stage{l.a1: Archived, l.a2: Production, l.c1: Staging, l.tx: None}
	ms, err := r.List(ctx, "")
	if err != nil || len(ms) != 4 {
		t.Fatalf("List = %v, %v", ms, err)
	}
	for _, m := range ms {
		if m.Stage != stages[m.Version] {
			t.Errorf("%s (%s): stage %s; want %s", m.Version, m.Name, m.Stage, stages[m.Version])
		}
	}
	h, err := r.History(ctx, "mlc_churn")
	if err != nil || len(h) != 2 {
		t.Errorf("History(mlc_churn) = %+v, %v; want its 2 events", h, err)
	}
	all, err := r.History(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range all {
		if e.Name == "" {
			t.Errorf("event without a name after migration: %+v", e)
		}
	}
}

// listCounter is a real store that counts its listings by kind: what
// grows with the registry's size.
type listCounter struct {
	store.Swapper
	mu    sync.Mutex
	lists map[string]int
}

func (c *listCounter) ListRecords(ctx context.Context, kind, prefix string) ([]*store.Record, error) {
	c.mu.Lock()
	c.lists[kind]++
	c.mu.Unlock()
	return c.Swapper.ListRecords(ctx, kind, prefix)
}

// TestOpenMigratesOnce: Open migrates a store without the layout record
// once and records the layout; from then on it lists nothing, whatever
// the number of versions and events. It listed every model, stage record
// and event on each open before: with 100,000 events, `models promote`
// took 0.55 s of CPU and serve's start as much, all of it re-checking a
// migration done long ago. A layout recorded by a newer tabforge is left
// as it is.
func TestOpenMigratesOnce(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			rec := &listCounter{Swapper: b.open(t), lists: map[string]int{}}
			l := writeLegacy(t, rec)
			r, err := Open(ctx, rec)
			if err != nil {
				t.Fatal(err)
			}
			if rec.lists[KindEvent] != 1 || rec.lists[KindModel] != 1 {
				t.Errorf("first Open listed %v; want models and events once each", rec.lists)
			}
			if v, _, err := r.layout(ctx); err != nil || v != LayoutVersion {
				t.Fatalf("layout after Open = %d, %v; want %d", v, err, LayoutVersion)
			}
			for i := range 5 {
				if _, err := r.Promote(ctx, l.a1, Production, PromoteOptions{}); err != nil {
					t.Fatal(err)
				}
				if _, err := r.Rollback(ctx, "ames", PromoteOptions{}); err != nil {
					t.Fatalf("rollback %d: %v", i, err)
				}
			}
			clear(rec.lists)
			if r, err = Open(ctx, rec); err != nil {
				t.Fatal(err)
			}
			if len(rec.lists) != 0 {
				t.Errorf("Open of a migrated store listed %v; want nothing", rec.lists)
			}
			checkMigrated(t, r, l)

			newer := []byte(`{"version":99,"migrated":"2030-01-01T00:00:00Z"}`)
			if err := rec.PutRecord(ctx, KindMeta, layoutKey, newer); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if got, err := rec.GetRecord(ctx, KindMeta, layoutKey); err != nil || string(got.Value) != string(newer) {
				t.Errorf("layout record after Migrate = %s, %v; want a newer tabforge's kept", got.Value, err)
			}
		})
	}
}

// TestConcurrentOpen: processes opening one old store at once (two
// handles, as two processes, on one SQLite file and one Redis database)
// both migrate it, and a promotion made while they do is kept: the
// stages move by compare-and-swap, not by writing over the name's
// record.
func TestConcurrentOpen(t *testing.T) {
	for _, b := range sharedBackends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			ha, hb := b.open(t)
			l := writeLegacy(t, ha)
			var wg sync.WaitGroup
			errs := make([]error, 3)
			for i, h := range []store.Swapper{ha, hb, ha} {
				wg.Go(func() {
					if i == 2 { // a promotion of a migrated name, at once
						if _, errs[i] = Open(ctx, h); errs[i] == nil {
							_, errs[i] = New(h).Promote(ctx, "mlc_churn/"+l.c1, Production, PromoteOptions{})
						}
						return
					}
					_, errs[i] = Open(ctx, h)
				})
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			r := New(hb)
			if v, _, err := r.layout(ctx); err != nil || v != LayoutVersion {
				t.Fatalf("layout = %d, %v; want %d", v, err, LayoutVersion)
			}
			m, err := r.Resolve(ctx, "mlc_churn@production")
			if err != nil || m.Version != l.c1 {
				t.Fatalf("mlc_churn@production = %v, %v; want the promoted %s", m, err, l.c1)
			}
			if m, err := r.Resolve(ctx, "ames@production"); err != nil || m.Version != l.a2 {
				t.Fatalf("ames@production = %v, %v; want %s", m, err, l.a2)
			}
			if old, err := ha.ListRecords(ctx, KindStage, ""); err != nil || len(old) != 0 {
				t.Errorf("old stage records left: %d, %v", len(old), err)
			}
		})
	}
}
