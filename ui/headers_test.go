package ui

import (
	"net/http"
	"strings"
	"testing"
)

// csp parses a Content-Security-Policy header into its directives.
func csp(h string) map[string]string {
	out := map[string]string{}
	for _, d := range strings.Split(h, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		if name != "" {
			out[name] = value
		}
	}
	return out
}

// TestSecurityHeaders: every response of the dashboard (pages, assets,
// error pages, downloads and the run's report) forbids sniffing and being
// framed by another site (CSP frame-ancestors and, for browsers without
// it, X-Frame-Options); pages run only the dashboard's own script; the
// report runs its inline script but may reach nothing. The report's CSP
// had no frame-ancestors (any site could frame it) and let its script
// fetch every page of the dashboard.
func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t, openSQLite(t), 5)
	ts := serve(t, f.st, Options{})
	for _, path := range []string{"/", "/runs/cmp-a", "/models/" + f.v1, "/static/app.js", "/no-such-page", "/runs/cmp-a/download/model",
		"/runs/cmp-a/report/", "/runs/cmp-a/report/missing.png"} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "SAMEORIGIN" {
			t.Errorf("GET %s: X-Content-Type-Options %q, X-Frame-Options %q; want nosniff, SAMEORIGIN", path,
				h.Get("X-Content-Type-Options"), h.Get("X-Frame-Options"))
		}
		p := csp(h.Get("Content-Security-Policy"))
		if p["frame-ancestors"] != "'self'" {
			t.Errorf("GET %s: CSP frame-ancestors %q; want 'self' (%s)", path, p["frame-ancestors"], h.Get("Content-Security-Policy"))
		}
		report := strings.HasPrefix(path, "/runs/cmp-a/report/") && resp.StatusCode == 200
		switch {
		case report && (p["default-src"] != "'none'" || p["connect-src"] != "" || p["frame-src"] != ""):
			t.Errorf("GET %s: the report's CSP lets it reach more than its images: %s", path, h.Get("Content-Security-Policy"))
		case !report && p["script-src"] != "'self'":
			t.Errorf("GET %s: CSP script-src %q; want 'self' only", path, p["script-src"])
		}
	}
}
