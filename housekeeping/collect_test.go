package housekeeping

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

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
				_, err = st.GetRecord(ctx, pipeline.StageKind, id)
				if gotGone := errors.Is(err, store.ErrNotFound); gotGone != gone {
					t.Errorf("stage record of %s gone = %v; want %v", id, gotGone, gone)
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
