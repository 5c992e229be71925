package ui

import (
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/internal/syncbuf"
)

var errorIDRE = regexp.MustCompile(`error id ([0-9a-f]{16})`)

// TestInternalErrorPage: a page whose store fails (a closed SQLite
// database) answers 500 with a plain page and an error id, not the
// store's error; the server's log has the id and the whole error.
func TestInternalErrorPage(t *testing.T) {
	st := openSQLite(t)
	f := newFixture(t, st, 3)
	var log syncbuf.Buffer
	ts := serve(t, f.st, Options{Log: slog.New(slog.NewTextHandler(&log, nil))})
	st.Close()
	for _, path := range []string{"/runs/cmp-a", "/models", "/studies"} {
		code, body := get(t, ts.URL, path)
		if code != 500 {
			t.Fatalf("GET %s on a closed store = %d; want 500", path, code)
		}
		m := errorIDRE.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("GET %s: the 500 page has no error id:\n%s", path, body)
		}
		var line string
		for _, l := range strings.Split(log.String(), "\n") {
			if strings.Contains(l, "error_id="+m[1]) {
				line = l
			}
		}
		_, raw, ok := strings.Cut(line, " err=")
		if !ok || !strings.Contains(raw, "closed") {
			t.Fatalf("GET %s: no log line with error id %s and the store's error:\n%s", path, m[1], log.String())
		}
		if strings.Contains(body, "closed") || strings.Contains(body, strings.Trim(raw, `"`)) {
			t.Errorf("GET %s: the 500 page shows the internal error %s:\n%s", path, raw, body)
		}
	}
}
