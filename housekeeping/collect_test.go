package housekeeping

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/sqlite"
)

// openEnv opens a fresh SQLite store and its registry.
func openEnv(t *testing.T) (context.Context, *sqlite.Store, Env) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg, err := registry.Open(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	return ctx, st, Env{Store: st, Registry: reg}
}

// TestCollectInterruptedRuns: a run recorded as running whose process was
// killed (its lease expired, or was never written) is interrupted, and gc
// and runs rm remove it with the stage and lease records it left; a run
// whose lease is live stays. Before, both were "still running" forever.
func TestCollectInterruptedRuns(t *testing.T) {
	lease := map[string]time.Duration{"expired": -time.Hour, "live": time.Hour} // "nolease" has none
	setup := func(t *testing.T) (context.Context, *sqlite.Store, Env) {
		ctx, st, env := openEnv(t)
		for _, id := range []string{"expired", "live", "nolease"} {
			if err := st.PutRun(ctx, &store.Run{ID: id, Created: time.Now().Add(-48 * time.Hour), Status: store.Running}); err != nil {
				t.Fatal(err)
			}
			if err := st.PutRecord(ctx, pipeline.StageKind, id, []byte(`{"stage":"cv"}`)); err != nil {
				t.Fatal(err)
			}
			if err := st.PutRecord(ctx, pipeline.InputsKind, id, []byte(`{"dir":"/"}`)); err != nil {
				t.Fatal(err)
			}
			if d, ok := lease[id]; ok {
				if err := st.PutRecord(ctx, store.LeaseKind, id, []byte(time.Now().Add(d).Format(time.RFC3339Nano))); err != nil {
					t.Fatal(err)
				}
			}
		}
		return ctx, st, env
	}
	tests := []struct {
		name    string
		p       Policy
		removed []string
		wantErr bool
	}{
		{"gc", Policy{OlderThan: time.Hour}, []string{"nolease", "expired"}, false},
		{"runs rm of an interrupted run", Policy{Runs: []string{"expired"}}, []string{"expired"}, false},
		{"runs rm of a live run", Policy{Runs: []string{"live"}}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, st, env := setup(t)
			rep, err := Collect(ctx, env, tt.p)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Collect = %v; want error %v", err, tt.wantErr)
			}
			if err == nil && !sameSet(rep.Runs, tt.removed) {
				t.Errorf("removed %v; want %v (kept %v)", rep.Runs, tt.removed, rep.Kept)
			}
			for _, id := range []string{"expired", "live", "nolease"} {
				gone := slices.Contains(tt.removed, id)
				_, err := st.GetRun(ctx, id)
				if gotGone := errors.Is(err, store.ErrNotFound); gotGone != gone {
					t.Errorf("run %s gone = %v; want %v", id, gotGone, gone)
				}
				for _, kind := range []string{pipeline.StageKind, pipeline.InputsKind} {
					_, err = st.GetRecord(ctx, kind, id)
					if gotGone := errors.Is(err, store.ErrNotFound); gotGone != gone {
						t.Errorf("%s record of %s gone = %v; want %v", kind, id, gotGone, gone)
					}
				}
			}
			if _, err := st.GetRecord(ctx, store.LeaseKind, "expired"); slices.Contains(tt.removed, "expired") && !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the removed run's lease record is left: %v", err)
			}
		})
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// faultStore is a real store that, through hook, lets a test act when
// gc first deletes a record (another process promoting the version being
// deleted), and whose failRun-th DeleteRun fails, as a gc killed or cut
// off part way leaves the store.
type faultStore struct {
	*sqlite.Store
	failRun, deletes int
	hook             func(kind, key string)
}

func (f *faultStore) DeleteRun(ctx context.Context, id string) error {
	if f.deletes++; f.deletes == f.failRun {
		return errors.New("injected: store gone")
	}
	return f.Store.DeleteRun(ctx, id)
}

func (f *faultStore) DeleteRecord(ctx context.Context, kind, key string) error {
	if f.hook != nil && kind == registry.KindModel {
		f.hook(kind, key)
		f.hook = nil
	}
	return f.Store.DeleteRecord(ctx, kind, key)
}

// versionsEnv records old runs r1 and r2, each the producer of one
// registered version with an artifact, and a new run r3 that gc keeps.
func versionsEnv(t *testing.T) (context.Context, *faultStore, Env, map[string]*registry.Model) {
	t.Helper()
	ctx, st, _ := openEnv(t)
	fs := &faultStore{Store: st}
	reg, err := registry.Open(ctx, fs)
	if err != nil {
		t.Fatal(err)
	}
	arts, err := artifact.Open(ctx, filepath.Join(t.TempDir(), "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	versions := map[string]*registry.Model{}
	for i, id := range []string{"r1", "r2", "r3"} {
		age := time.Duration(3-i) * 24 * time.Hour
		if err := st.PutRun(ctx, &store.Run{ID: id, Created: time.Now().Add(-age), Status: store.Succeeded}); err != nil {
			t.Fatal(err)
		}
		ref, err := arts.Put(ctx, "models/"+id+".tfm", []byte("model of "+id))
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := reg.Register(ctx, registry.Model{Name: "houses", Identity: registry.Identity{DatasetHash: id, ConfigHash: "c0ffee", CodeVersion: "test"},
			RunID: id, Artifact: ref, Deployable: true})
		if err != nil {
			t.Fatal(err)
		}
		versions[id] = m
	}
	return ctx, fs, Env{Store: fs, Registry: reg, Artifacts: arts}, versions
}

// TestCollectCutShort: a gc that fails after removing one of two runs
// (killed, or the store gone) is finished by the next gc. Before, runs
// went first and their versions after, so the first run's version, whose
// run was gone, was never selected again and stayed with its artifact.
func TestCollectCutShort(t *testing.T) {
	ctx, fs, env, versions := versionsEnv(t)
	fs.failRun = 2
	if _, err := Collect(ctx, env, Policy{KeepLast: 1}); err == nil {
		t.Fatal("Collect did not report the failed run removal")
	}
	rep, err := Collect(ctx, env, Policy{KeepLast: 1})
	if err != nil {
		t.Fatalf("second Collect: %v", err)
	}
	for _, id := range []string{"r1", "r2"} {
		v := versions[id]
		if _, err := env.Registry.Get(ctx, v.Version); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("version %s of removed run %s is still registered (err %v; second report %+v)", v.Version, id, err, rep)
		}
		if ok, _ := env.Artifacts.Exists(ctx, v.Artifact.Key); ok {
			t.Errorf("artifact of removed run %s is left", id)
		}
		if _, err := fs.GetRun(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("run %s is left: %v", id, err)
		}
	}
}

// TestCollectPromotedMeanwhile: a version another process promotes while
// gc deletes it (after every check of what is protected) keeps its
// record, its artifact and its run. Before, gc removed the artifact
// before the registry's check, and the registry's check came before its
// delete: production pointed at a missing record or file.
func TestCollectPromotedMeanwhile(t *testing.T) {
	ctx, fs, env, versions := versionsEnv(t)
	other := registry.New(fs.Store) // the other process
	var promoted string
	fs.hook = func(_, version string) {
		if _, err := other.Promote(ctx, version, registry.Production, registry.PromoteOptions{}); err != nil {
			t.Fatalf("promote during gc: %v", err)
		}
		promoted = version
	}
	rep, err := Collect(ctx, env, Policy{KeepLast: 1})
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	run, removed := "r1", "r2"
	if promoted == versions["r2"].Version {
		run, removed = "r2", "r1"
	}
	v1 := versions[run]
	if _, err := env.Registry.Get(ctx, v1.Version); err != nil {
		t.Errorf("the promoted version's record is gone: %v", err)
	}
	if _, err := env.Artifacts.Get(ctx, v1.Artifact.Key); err != nil {
		t.Errorf("the promoted version's artifact is gone: %v", err)
	}
	if _, err := fs.GetRun(ctx, run); err != nil || rep.Kept[run] == "" {
		t.Errorf("the promoted version's run: err %v, kept %q; want it kept with a reason", err, rep.Kept[run])
	}
	if !slices.Equal(rep.Runs, []string{removed}) || !slices.Equal(rep.Versions, []string{versions[removed].Version}) {
		t.Errorf("removed runs %v and versions %v; want only %s and its version", rep.Runs, rep.Versions, removed)
	}
}
