package ui

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/internal/syncbuf"
	"github.com/tabforge/tabforge/store/failover"
)

// TestFallbackBanner: while Redis is unreachable the failover store
// serves its SQLite fallback, and every page says so; the runs page
// showed "0 runs. No runs match." as if the store were empty. The
// banner gives an error id, not the store's error, which names the
// fallback's file and Redis's address (and a Redis URL's password): it
// showed them to anyone reading the pages. The log has the id beside
// the error, once.
func TestFallbackBanner(t *testing.T) {
	fb := filepath.Join(t.TempDir(), "fallback.db")
	st, err := failover.Open(context.Background(), "redis://127.0.0.1:1/0", failover.Options{Fallback: fb, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var log syncbuf.Buffer
	down := serve(t, st, Options{Log: slog.New(slog.NewTextHandler(&log, nil))})
	up := serve(t, openSQLite(t), Options{})
	const banner = `<p class="fallback" role="alert">the store is on its fallback`
	ids := map[string]bool{}
	for _, p := range []string{"/", "/models", "/studies", "/runs/no-such-run", "/models?name=churn", "/models/0123abcd", "/models/churn@production"} {
		_, body := get(t, down.URL, p)
		if !strings.Contains(body, banner) {
			t.Errorf("GET %s with Redis down: no fallback banner\n%.600s", p, body)
		}
		for _, secret := range []string{"127.0.0.1:1", fb, "fallback.db"} {
			if strings.Contains(body, secret) {
				t.Errorf("GET %s with Redis down: the page shows the store's %q", p, secret)
			}
		}
		m := errorIDRE.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("GET %s with Redis down: the banner has no error id\n%.600s", p, body)
		}
		ids[m[1]] = true
		if _, body := get(t, up.URL, p); strings.Contains(body, banner) {
			t.Errorf("GET %s on SQLite: a fallback banner", p)
		}
	}
	if len(ids) != 1 {
		t.Errorf("the pages show %d error ids for the one fallback; want 1", len(ids))
	}
	var lines []string
	for l := range strings.SplitSeq(log.String(), "\n") {
		if strings.Contains(l, "fallback") {
			lines = append(lines, l)
		}
	}
	for id := range ids {
		if len(lines) != 1 || !strings.Contains(lines[0], "error_id="+id) || !strings.Contains(lines[0], "127.0.0.1:1") {
			t.Errorf("log lines about the fallback: %q; want one, with error id %s and Redis's address", lines, id)
		}
	}
}
