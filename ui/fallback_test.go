package ui

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/store/failover"
)

// TestFallbackBanner: while Redis is unreachable the failover store
// serves its SQLite fallback, and every page says so; the runs page
// showed "0 runs. No runs match." as if the store were empty.
func TestFallbackBanner(t *testing.T) {
	fb := filepath.Join(t.TempDir(), "fallback.db")
	st, err := failover.Open(context.Background(), "redis://127.0.0.1:1/0", failover.Options{Fallback: fb, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	down := serve(t, st, Options{})
	up := serve(t, openSQLite(t), Options{})
	const banner = `<p class="fallback" role="alert">the store is on its fallback`
	for _, p := range []string{"/", "/models", "/studies", "/runs/no-such-run"} {
		if _, body := get(t, down.URL, p); !strings.Contains(body, banner) || !strings.Contains(body, "127.0.0.1:1") {
			t.Errorf("GET %s with Redis down: no fallback banner naming it\n%.600s", p, body)
		}
		if _, body := get(t, up.URL, p); strings.Contains(body, banner) {
			t.Errorf("GET %s on SQLite: a fallback banner", p)
		}
	}
}
