package registry

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/redis/redistest"
	"github.com/tabforge/tabforge/store/sqlite"
)

// sharedBackends opens each real store twice, as two processes sharing
// it would: one SQLite file, one Redis database.
func sharedBackends() []struct {
	name string
	open func(t *testing.T) (a, b store.Swapper)
} {
	two := func(t *testing.T, open func() (store.Store, error)) (a, b store.Swapper) {
		var h [2]store.Store
		for i := range h {
			s, err := open()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			h[i] = s
		}
		return h[0], h[1]
	}
	return []struct {
		name string
		open func(t *testing.T) (a, b store.Swapper)
	}{
		{"sqlite", func(t *testing.T) (a, b store.Swapper) {
			path := filepath.Join(t.TempDir(), "tf.db")
			return two(t, func() (store.Store, error) { return sqlite.Open(context.Background(), path) })
		}},
		{"redis", func(t *testing.T) (a, b store.Swapper) {
			url := redistest.URL(t)
			return two(t, func() (store.Store, error) { return redis.Open(context.Background(), url) })
		}},
	}
}

// TestConcurrentNameChanges: promotions and alias changes of one name,
// made at once through two handles on one store (two processes), all
// take effect: every promoted version is in production or on the
// rollback stack, every alias set is there, and the history holds one
// event per change. Before name records were swapped, the last write won
// and the others' changes were lost while their events said otherwise.
func TestConcurrentNameChanges(t *testing.T) {
	const versions, aliases = 12, 12
	for _, b := range sharedBackends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			ha, hb := b.open(t)
			ra, rb := New(ha), New(hb)
			var vs []string
			for i := range versions {
				m, _, err := ra.Register(ctx, named("house", fmt.Sprint("d", i), true))
				if err != nil {
					t.Fatal(err)
				}
				vs = append(vs, m.Version)
			}
			var wg sync.WaitGroup
			for i, v := range vs {
				r := []*Registry{ra, rb}[i%2]
				wg.Go(func() {
					if _, err := r.Promote(ctx, v, Production, PromoteOptions{}); err != nil {
						t.Error(err)
					}
				})
			}
			for i := range aliases {
				r := []*Registry{rb, ra}[i%2]
				wg.Go(func() {
					if _, err := r.SetAlias(ctx, "house", fmt.Sprint("al", i), vs[0], PromoteOptions{}); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			nr, err := ra.nameRecord(ctx, "house")
			if err != nil {
				t.Fatal(err)
			}
			held := append([]string{nr.Production.Version}, nr.Production.Previous...)
			slices.Sort(held)
			want := slices.Sorted(slices.Values(vs))
			if !slices.Equal(held, want) {
				t.Errorf("production and its rollback stack hold %d versions %v; want all %d promoted", len(held), held, len(want))
			}
			if len(nr.Aliases) != aliases {
				t.Errorf("%d aliases kept; want all %d set", len(nr.Aliases), aliases)
			}
			h, err := rb.History(ctx, "house")
			if err != nil {
				t.Fatal(err)
			}
			if len(h) != versions+aliases {
				t.Errorf("history holds %d events; want %d", len(h), versions+aliases)
			}
		})
	}
}

// TestConcurrentRegister: runs registering the same version at once
// through two handles (two trains of one name, data, config and seed)
// create it exactly once, keep the creator's artifact, and each run is
// in its lineage; before, each wrote the version whole and the last one
// won, dropping the others' runs.
func TestConcurrentRegister(t *testing.T) {
	const runs = 12
	for _, b := range sharedBackends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			ha, hb := b.open(t)
			regs := []*Registry{New(ha), New(hb)}
			var mu sync.Mutex
			var creators []string
			var wg sync.WaitGroup
			for i := range runs {
				wg.Go(func() {
					m := named("house", "d", true)
					m.RunID = fmt.Sprint("run-", i)
					m.Artifact.Key = fmt.Sprint("models/", i, "/model.tfm")
					if _, isNew, err := regs[i%2].Register(ctx, m); err != nil {
						t.Error(err)
					} else if isNew {
						mu.Lock()
						creators = append(creators, m.RunID)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if len(creators) != 1 {
				t.Fatalf("created by %v; want exactly one run", creators)
			}
			ms, err := regs[0].List(ctx, "house")
			if err != nil || len(ms) != 1 {
				t.Fatalf("List = %d versions, %v; want 1", len(ms), err)
			}
			m := ms[0]
			if m.RunID != creators[0] || m.Artifact.Key != "models/"+creators[0][len("run-"):]+"/model.tfm" {
				t.Errorf("version made by %s with artifact %s; want the creator %s's", m.RunID, m.Artifact.Key, creators[0])
			}
			if got := len(m.Runs) + 1; got != runs {
				t.Errorf("lineage holds %d runs (%s, then %v); want all %d", got, m.RunID, m.Runs, runs)
			}
		})
	}
}
