package housekeeping

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/sqlite"
)

// hookStore is a real store that calls after once, after gc has listed
// the runs (op "list") or read a run's lease (op "lease"): the moment a
// resume in another process takes the run over in these tests.
type hookStore struct {
	*sqlite.Store
	op    string
	after func()
}

func (h *hookStore) fire(op string) {
	if h.after != nil && h.op == op {
		f := h.after
		h.after = nil
		f()
	}
}

func (h *hookStore) ListRuns(ctx context.Context, limit int) ([]*store.Run, error) {
	runs, err := h.Store.ListRuns(ctx, limit)
	h.fire("list")
	return runs, err
}

func (h *hookStore) GetRecord(ctx context.Context, kind, key string) (*store.Record, error) {
	r, err := h.Store.GetRecord(ctx, kind, key)
	if kind == store.LeaseKind {
		h.fire("lease")
	}
	return r, err
}

// TestCollectResumedMeanwhile: a run gc judged removable (interrupted:
// its lease expired; or failed: no lease) that another process resumes
// after gc read it keeps its run record and the resume's lease, which
// still holds the resume's token and renews; a resume that finished
// before gc came to the run keeps its record too. Before, gc deleted the
// lease, stage and run records with plain deletes: the live run lost its
// lease to gc, and the finished one its record.
func TestCollectResumedMeanwhile(t *testing.T) {
	tests := []struct {
		name   string
		status store.Status
		lease  bool   // an expired lease left by the dead process
		op     string // when the resume comes
		finish bool   // the resume also succeeds and releases its lease before gc goes on
	}{
		{"interrupted run resumed after gc read its lease", store.Running, true, "lease", false},
		{"failed run resumed after gc listed it", store.Failed, false, "list", false},
		{"failed run resumed and finished after gc listed it", store.Failed, false, "list", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, st, _ := openEnv(t)
			hs := &hookStore{Store: st, op: tt.op}
			reg, err := registry.Open(ctx, hs)
			if err != nil {
				t.Fatal(err)
			}
			env := Env{Store: hs, Registry: reg}
			created := time.Now().Add(-48 * time.Hour).UTC()
			if err := st.PutRun(ctx, &store.Run{ID: "r1", Created: created, Status: tt.status}); err != nil {
				t.Fatal(err)
			}
			if tt.lease {
				expired := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339Nano) + " 1"
				if err := st.PutRecord(ctx, store.LeaseKind, "r1", []byte(expired)); err != nil {
					t.Fatal(err)
				}
			}
			var resumed *store.Lease
			hs.after = func() {
				// The resume, straight on the SQLite file: it takes the
				// lease and records the run anew as running.
				_, l, err := store.Claim(ctx, st, store.LeaseKind, "r1", time.Hour, slog.New(slog.DiscardHandler))
				if err != nil {
					t.Fatalf("resume's claim: %v", err)
				}
				resumed = l
				run := &store.Run{ID: "r1", Created: time.Now().UTC(), Status: store.Running}
				if err := st.PutRun(ctx, run); err != nil {
					t.Fatal(err)
				}
				if tt.finish {
					run.Status, run.Finished = store.Succeeded, time.Now().UTC()
					if err := st.PutRun(ctx, run); err != nil {
						t.Fatal(err)
					}
					l.Release()
				}
			}
			rep, err := Collect(ctx, env, Policy{OlderThan: time.Hour})
			if err != nil {
				t.Fatalf("Collect: %v", err)
			}
			if resumed == nil {
				t.Fatal("gc never reached the point the resume comes at")
			}
			defer resumed.Release()
			if len(rep.Runs) != 0 || rep.Kept["r1"] == "" {
				t.Errorf("removed %v, kept %v; want r1 kept with a reason", rep.Runs, rep.Kept)
			}
			want := store.Running
			if tt.finish {
				want = store.Succeeded
			}
			if r, err := st.GetRun(ctx, "r1"); err != nil || r.Status != want {
				t.Errorf("the resumed run's record: %+v, %v; want it %s", r, err, want)
			}
			if tt.finish {
				return
			}
			rec, err := st.GetRecord(ctx, store.LeaseKind, "r1")
			if err != nil {
				t.Fatalf("the resumed run's lease is gone: %v", err)
			}
			if got := store.LeaseToken(rec); got != resumed.Token {
				t.Errorf("lease token = %d; want the resume's %d", got, resumed.Token)
			}
			if err := resumed.Renew(ctx); err != nil {
				t.Errorf("the resume's renewal after gc: %v", err)
			}
		})
	}
}

// leaseCountStore is a real store that, each time a run lease is
// created, counts the run leases in the store and keeps the most seen.
type leaseCountStore struct {
	*sqlite.Store
	most int
}

func (c *leaseCountStore) CreateRecord(ctx context.Context, kind, key string, value []byte) (bool, error) {
	created, err := c.Store.CreateRecord(ctx, kind, key, value)
	if err == nil && created && kind == store.LeaseKind {
		recs, err := c.Store.ListRecords(ctx, store.LeaseKind, "")
		if err != nil {
			return created, err
		}
		c.most = max(c.most, len(recs))
	}
	return created, err
}

// TestCollectHoldsRunsByGroup: gc holds the leases of the runs it
// removes a group at a time, the runs that produced one version
// together (r2 and r4 here), not all at once. Before, it claimed every
// removable run's lease first: each renews itself every few seconds,
// and a gc over three thousand old failed runs on SQLite took minutes
// of renewals and held off a train on the same store.
func TestCollectHoldsRunsByGroup(t *testing.T) {
	ctx, st, _ := openEnv(t)
	cs := &leaseCountStore{Store: st}
	reg, err := registry.Open(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	arts, err := artifact.Open(ctx, filepath.Join(t.TempDir(), "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{"r1", "r2", "r3", "r4", "r5"}
	for i, id := range ids {
		run := &store.Run{ID: id, Created: time.Now().Add(-time.Duration(48+i) * time.Hour).UTC(), Status: store.Failed}
		if err := st.PutRun(ctx, run); err != nil {
			t.Fatal(err)
		}
	}
	var versions []string
	for _, by := range [][]string{{"r2", "r4"}, {"r5"}} {
		ref, err := arts.Put(ctx, "models/"+by[0]+".tfm", []byte("model of "+by[0]))
		if err != nil {
			t.Fatal(err)
		}
		var m *registry.Model
		for _, id := range by { // a second run of one identity joins the version's Runs
			m, _, err = reg.Register(ctx, registry.Model{Name: "houses", Identity: registry.Identity{DatasetHash: by[0], ConfigHash: "c0ffee", CodeVersion: "test"},
				RunID: id, Artifact: ref, Deployable: true})
			if err != nil {
				t.Fatal(err)
			}
		}
		versions = append(versions, m.Version)
	}
	rep, err := Collect(ctx, Env{Store: cs, Registry: reg, Artifacts: arts}, Policy{OlderThan: time.Hour})
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if !sameSet(rep.Runs, ids) || !sameSet(rep.Versions, versions) {
		t.Fatalf("removed runs %v and versions %v; want %v and %v", rep.Runs, rep.Versions, ids, versions)
	}
	if cs.most != 2 {
		t.Errorf("gc held up to %d run leases at once; want 2, the runs of one version", cs.most)
	}
}
