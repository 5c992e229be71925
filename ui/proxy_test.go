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

func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:f::/48")}
	for _, tt := range []struct {
		name, peer string
		xff        []string // X-Forwarded-For lines
		trusted    []netip.Prefix
		want       string
	}{
		{"no trusted proxies: headers ignored", "10.0.0.1:5", []string{"192.0.2.1"}, nil, "10.0.0.1"},
		{"untrusted peer: headers ignored", "192.0.2.9:5", []string{"192.0.2.1"}, trusted, "192.0.2.9"},
		{"one proxy", "10.0.0.1:5", []string{"192.0.2.1"}, trusted, "192.0.2.1"},
		{"forged entries left of the client", "10.0.0.1:5", []string{"203.0.113.7, 198.51.100.3, 192.0.2.1"}, trusted, "192.0.2.1"},
		{"two proxies", "10.0.0.1:5", []string{"192.0.2.1, 10.9.9.9"}, trusted, "192.0.2.1"},
		{"a line per proxy", "10.0.0.1:5", []string{"203.0.113.7, 192.0.2.1", "10.9.9.9"}, trusted, "192.0.2.1"},
		{"ports and brackets", "10.0.0.1:5", []string{"[2001:db8::1]:4711"}, trusted, "2001:db8::1"},
		{"ipv4 with port", "10.0.0.1:5", []string{"192.0.2.1:4711"}, trusted, "192.0.2.1"},
		{"mapped ipv4", "[::ffff:10.0.0.1]:5", []string{"::ffff:192.0.2.1"}, trusted, "192.0.2.1"},
		{"ipv6 proxy", "[2001:db8:f::1]:5", []string{"192.0.2.1"}, trusted, "192.0.2.1"},
		{"no header: the proxy", "10.0.0.1:5", nil, trusted, "10.0.0.1"},
		{"only proxies: the farthest", "10.0.0.1:5", []string{"10.2.2.2, 10.3.3.3"}, trusted, "10.2.2.2"},
		{"unknown hop: the proxy that wrote it", "10.0.0.1:5", []string{"192.0.2.1, unknown, 10.3.3.3"}, trusted, "10.3.3.3"},
		{"garbage: the peer", "10.0.0.1:5", []string{"<script>"}, trusted, "10.0.0.1"},
		{"empty entry: the peer", "10.0.0.1:5", []string{"192.0.2.1,"}, trusted, "10.0.0.1"},
	} {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.RemoteAddr = tt.peer
		for _, l := range tt.xff {
			r.Header.Add("X-Forwarded-For", l)
		}
		if got := clientAddr(r, tt.trusted); got.String() != tt.want {
			t.Errorf("%s: clientAddr(peer %s, X-Forwarded-For %q) = %v; want %s", tt.name, tt.peer, tt.xff, got, tt.want)
		}
	}
}

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
