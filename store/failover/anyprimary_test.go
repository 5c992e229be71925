package failover_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/failover"
	"github.com/tabforge/tabforge/store/sqlite"
)

// hookedSQLite is hookedPrimary over an SQLite store itself, so that the
// replay finds its optional interfaces (store.RecordSwapper).
type hookedSQLite struct {
	*sqlite.Store
	afterOnce
}

func (h *hookedSQLite) GetRecords(ctx context.Context, kind string, keys []string) ([]*store.Record, error) {
	recs, err := h.Store.GetRecords(ctx, kind, keys)
	h.fire()
	return recs, err
}

// TestReplayWriteMidwayAnyPrimary is TestReplayWriteMidway on a primary
// other than Redis: an SQLite store, and a store with no optional
// interface (any store.Store). Records both stores hold are written and
// deleted on the fallback; another process writes two of them on the
// primary after the replay read them and before it writes. The primary
// must keep that process's values, named as conflicts, while the
// untouched record is copied. The replay used to check what it read,
// then write the fallback's values over the newer ones on any primary
// but Redis.
func TestReplayWriteMidwayAnyPrimary(t *testing.T) {
	for _, generic := range []bool{false, true} {
		name := "sqlite"
		if generic {
			name = "store.Store"
		}
		t.Run(name, func(t *testing.T) { testReplayWriteMidwayAnyPrimary(t, generic) })
	}
}

func testReplayWriteMidwayAnyPrimary(t *testing.T, generic bool) {
	ctx := context.Background()
	dir := t.TempDir()
	fallback, err := sqlite.Open(ctx, filepath.Join(dir, "fallback.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer fallback.Close()
	primary, err := sqlite.Open(ctx, filepath.Join(dir, "primary.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer primary.Close()
	v0 := &store.Record{Kind: "doc", Value: []byte("v0")}
	for _, st := range []*sqlite.Store{fallback, primary} {
		for _, k := range []string{"put", "del", "other"} {
			if err := st.PutRecord(ctx, "doc", k, v0.Value); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The outage's writes on the fallback, journalled over v0 as a
	// failover store journals them.
	for _, k := range []string{"put", "other"} {
		if err := fallback.PutRecord(ctx, "doc", k, []byte("outage")); err != nil {
			t.Fatal(err)
		}
	}
	if err := fallback.DeleteRecord(ctx, "doc", "del"); err != nil {
		t.Fatal(err)
	}
	var journal []sqlite.Pending
	for _, k := range []string{"put", "other", "del"} {
		journal = append(journal, sqlite.Pending{Kind: "record", A: "doc", B: k, Base: sqlite.RecordBase(v0)})
	}
	if err := fallback.MarkPending(ctx, journal...); err != nil {
		t.Fatal(err)
	}

	wrote := false
	after := func() {
		for _, k := range []string{"put", "del"} {
			if err := primary.PutRecord(ctx, "doc", k, []byte("newer")); err != nil {
				t.Fatal(err)
			}
		}
		wrote = true
	}
	var target store.Store = &hookedSQLite{Store: primary, afterOnce: afterOnce{after}}
	if generic {
		target = &hookedPrimary{Store: primary, afterOnce: afterOnce{after}}
	}
	n, err := failover.Replay(ctx, fallback, target)
	if err != nil {
		t.Fatal(err)
	}
	if !wrote {
		t.Fatal("the replay read no records from the primary")
	}
	slices.Sort(n.Conflicts)
	if want := []string{"doc/del", "doc/put"}; !slices.Equal(n.Conflicts, want) {
		t.Errorf("replay conflicts %q; want %q", n.Conflicts, want)
	}
	for k, want := range map[string]string{"put": "newer", "del": "newer", "other": "outage"} {
		if got, err := primary.GetRecord(ctx, "doc", k); err != nil || string(got.Value) != want {
			t.Errorf("doc/%s on the primary after the replay = %v, %v; want %q", k, got, err, want)
		}
	}
}
