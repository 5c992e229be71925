package ui

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
