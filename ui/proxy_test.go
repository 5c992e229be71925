package ui

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestTrustedProxyGuesses: behind a trusted proxy (the test's own
// client, on 127.0.0.1) each client named by X-Forwarded-For has its own
// token-guess limit, and a client cannot escape its limit by forging
// entries in front of its address; behind an untrusted one every client
// shares the proxy's limit, whatever the header says.
func TestTrustedProxyGuesses(t *testing.T) {
	f := newFixture(t, openSQLite(t), 3)
	post := func(ts *httptest.Server, c *http.Client, xff, token string) int {
		t.Helper()
		form := url.Values{"stage": {"staging"}, "token": {token}, "confirm": {"yes"}}
		req, err := http.NewRequest(http.MethodPost, ts.URL+"/models/"+f.v2+"/promote", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", xff)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	o := Options{AdminToken: "s3cret", TokenFailures: 2, TokenWindow: time.Hour,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	ts := serve(t, f.st, o)
	proxy, other := clientFrom(t, "127.0.0.1"), clientFrom(t, "127.0.0.2")
	for i, xff := range []string{"192.0.2.1", "203.0.113.5, 192.0.2.1"} {
		if code := post(ts, proxy, xff, "wrong"); code != http.StatusForbidden {
			t.Fatalf("wrong token %d from 192.0.2.1 = %d; want 403", i, code)
		}
	}
	// Forged hops left of the address the proxy appended change nothing.
	for _, xff := range []string{"192.0.2.1", "198.51.100.9, 192.0.2.1"} {
		if code := post(ts, proxy, xff, "s3cret"); code != http.StatusTooManyRequests {
			t.Errorf("the right token from 192.0.2.1 (X-Forwarded-For %q) after 2 wrong ones = %d; want 429", xff, code)
		}
	}
	if code := post(ts, proxy, "192.0.2.2", "s3cret"); code != http.StatusSeeOther {
		t.Errorf("the right token from 192.0.2.2 through the proxy = %d; want 303", code)
	}
	// 127.0.0.2 is no trusted proxy: its header is not read, so its
	// guesses count against 127.0.0.2 whatever it names.
	for i, xff := range []string{"192.0.2.3", "192.0.2.4"} {
		if code := post(ts, other, xff, "wrong"); code != http.StatusForbidden {
			t.Fatalf("wrong token %d from 127.0.0.2 = %d; want 403", i, code)
		}
	}
	if code := post(ts, other, "192.0.2.5", "s3cret"); code != http.StatusTooManyRequests {
		t.Errorf("an untrusted peer naming a fresh client in X-Forwarded-For = %d; want 429", code)
	}

	// Without TrustedProxies no header is trusted: the proxy's clients
	// share one limit.
	o.TrustedProxies = nil
	ts = serve(t, f.st, o)
	for i, xff := range []string{"192.0.2.1", "192.0.2.2"} {
		if code := post(ts, proxy, xff, "wrong"); code != http.StatusForbidden {
			t.Fatalf("wrong token %d = %d; want 403", i, code)
		}
	}
	if code := post(ts, proxy, "192.0.2.3", "s3cret"); code != http.StatusTooManyRequests {
		t.Errorf("with no trusted proxy, a fresh X-Forwarded-For after 2 wrong tokens = %d; want 429", code)
	}
}
