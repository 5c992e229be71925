package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/redis/redistest"
	"github.com/tabforge/tabforge/store/sqlite"
	"github.com/tabforge/tabforge/store/storetest"
)

// benchSize is the scale: 10,000 runs, 10,000 trials.
const benchSize = 10_000

// benchStores are the stores the render benchmarks fill: SQLite, and
// Redis when $TABFORGE_TEST_REDIS is set.
func benchStores(b *testing.B) map[string]store.Store {
	ctx := context.Background()
	out := map[string]store.Store{}
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "tf.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	out["sqlite"] = st
	if os.Getenv(redistest.EnvURL) != "" {
		rs, err := redis.Open(ctx, redistest.URL(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { rs.Close() })
		out["redis"] = rs
	}
	return out
}

// render serves one GET of path from srv in process: the server's time
// to a complete page, without the network.
func render(b *testing.B, srv http.Handler, path, want string) {
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), want) {
		b.Fatalf("GET %s = %d (%d bytes); want 200 with %q", path, rec.Code, rec.Body.Len(), want)
	}
}

// BenchmarkRunsPage renders / (first page, newest first) and / sorted by
// CV with a filter, over 10,000 runs.
func BenchmarkRunsPage(b *testing.B) {
	for name, st := range benchStores(b) {
		storetest.FillRuns(b, st, benchSize, 1)
		srv, err := New(st, Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, q := range []string{"/", "/?status=succeeded&sort=cv&order=asc&offset=5000"} {
			b.Run(fmt.Sprintf("%s%s", name, strings.ReplaceAll(q, "/", "_")), func(b *testing.B) {
				for b.Loop() {
					render(b, srv, q, `id="runs"`)
				}
			})
		}
	}
}

// BenchmarkStudyPage renders /studies/{id} of a study of 10,000 trials.
func BenchmarkStudyPage(b *testing.B) {
	for name, st := range benchStores(b) {
		id := fillStudy(b, st, "bench/study", benchSize, 1)
		srv, err := New(st, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				render(b, srv, fmt.Sprintf("/studies/%d", id), `class="best"`)
			}
		})
	}
}

// benchVersions is the registry's scale of the issue: a name retrained
// hourly for most of a year.
const benchVersions = 6_000

// fillVersions registers n hourly versions of name in st, each with a
// default config as its lineage (as a real registration has), and a
// succeeded run that registered the newest one. It returns the run's id
// and the versions, newest first.
func fillVersions(b *testing.B, st store.Store, name string, n int) (string, []string) {
	ctx := context.Background()
	reg := registry.New(st)
	cfg, err := json.Marshal(config.Default())
	if err != nil {
		b.Fatal(err)
	}
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var newest *registry.Model
	versions := make([]string, n)
	for i := range n {
		if newest, _, err = reg.Register(ctx, registry.Model{Name: name,
			Identity: registry.Identity{DatasetHash: "d", ConfigHash: fmt.Sprintf("cfg%d", i), CodeVersion: "bench"},
			RunID:    fmt.Sprintf("bench-run-%d", i), Config: cfg, Task: "regression", Family: "gbdt", Deployable: true,
			Metrics: map[string]float64{"r2": 0.9}, Artifact: artifact.Ref{URL: "file:///nowhere", Key: fmt.Sprint(i), SHA256: "00", Size: 1},
			Created: created.Add(time.Duration(i) * time.Hour)}); err != nil {
			b.Fatal(err)
		}
		versions[n-1-i] = newest.Version
	}
	res, err := json.Marshal(map[string]any{"best": "gbdt", "model_version": newest.Version})
	if err != nil {
		b.Fatal(err)
	}
	run := &store.Run{ID: newest.RunID, Created: newest.Created, Finished: newest.Created.Add(time.Minute), Status: store.Succeeded,
		DatasetPath: "data/bench.csv", DatasetHash: "d", ConfigHash: "c", Config: cfg, Task: "regression", Target: "y", Best: "gbdt", Result: res}
	if err := st.PutRun(ctx, run); err != nil {
		b.Fatal(err)
	}
	return run.ID, versions
}

// BenchmarkModelPages renders /models, a page of one name's versions
// (the first, and the same page far down by offset and by keyset) and
// the page of the run that registered the newest version, over a name
// of 6,000 versions.
func BenchmarkModelPages(b *testing.B) {
	for name, st := range benchStores(b) {
		run, versions := fillVersions(b, st, "hourly", benchVersions)
		srv, err := New(st, Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range []struct{ path, want string }{
			{"/models", `href="models?name=hourly"`},
			{"/models?name=hourly", `rel="next"`},
			{"/models?name=hourly&offset=5000", `showing 5001–5100`},
			{"/models?name=hourly&before=" + versions[4999], `showing 5001–5100`},
			{"/runs/" + run, `class="stage none"`},
		} {
			b.Run(name+strings.NewReplacer("/", "_", "?", "_", "&", "_").Replace(p.path), func(b *testing.B) {
				for b.Loop() {
					render(b, srv, p.path, p.want)
				}
			})
		}
	}
}
