package serve

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

// clientFrom is an HTTP client whose connections come from the local
// address ip (any 127.0.0.0/8 address is loopback on Linux).
func clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// adminPost sends an admin rollback with the bearer token (and an
// X-Forwarded-For header if xff is set) and returns the status and
// Retry-After. The name is unknown: a request past the token check
// gets 404.
func adminPost(t *testing.T, c *http.Client, url, token, xff string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/admin/models/nosuch/rollback", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// TestAdminTokenGuesses: after TokenFailures wrong bearer tokens from
// one address, its admin requests get 429 with the window's Retry-After,
// the right token included; another address's right token works
// meanwhile; a right token clears an address's count. The admin
// endpoints had no limit: any number of guesses got 401.
func TestAdminTokenGuesses(t *testing.T) {
	reg, _ := newRegistry(t)
	f := start(t, reg, Options{AdminToken: "s3cret", TokenFailures: 3, TokenWindow: time.Hour})
	guesser, owner := clientFrom(t, "127.0.0.1"), clientFrom(t, "127.0.0.2")
	// Two wrong, one right, two wrong are below three in a row.
	for i, tok := range []string{"a", "b", "s3cret", "c", "d", "e"} {
		want := http.StatusUnauthorized
		if tok == "s3cret" {
			want = http.StatusNotFound // past the check: the name is unknown
		}
		if code, _ := adminPost(t, guesser, f.url, tok, ""); code != want {
			t.Fatalf("try %d (%s) = %d; want %d", i, tok, code, want)
		}
	}
	for _, tok := range []string{"f", "s3cret"} {
		code, retry := adminPost(t, guesser, f.url, tok, "")
		// The window is an hour and began with this test: far more than
		// a minute of it is left, and never more than the hour.
		secs, err := strconv.Atoi(retry)
		if code != http.StatusTooManyRequests || err != nil || secs < 60 || secs > 3600 {
			t.Errorf("token %q after 3 failures = %d, Retry-After %q; want 429 and the window's rest (60..3600 s)", tok, code, retry)
		}
	}
	if code, _ := adminPost(t, owner, f.url, "s3cret", ""); code != http.StatusNotFound {
		t.Errorf("the right token from another address = %d; want 404 (past the check)", code)
	}
	if code, _ := adminPost(t, owner, f.url, "wrong", ""); code != http.StatusUnauthorized {
		t.Errorf("a wrong token from another address = %d; want 401", code)
	}
}

// TestAdminTrustedProxy: behind a trusted proxy (the test's client on
// 127.0.0.1) each client X-Forwarded-For names has its own limit; from
// an untrusted peer the header is ignored, so a guesser cannot get a
// fresh limit by changing it.
func TestAdminTrustedProxy(t *testing.T) {
	reg, _ := newRegistry(t)
	f := start(t, reg, Options{AdminToken: "s3cret", TokenFailures: 2, TokenWindow: time.Hour,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	proxy, other := clientFrom(t, "127.0.0.1"), clientFrom(t, "127.0.0.2")
	for range 2 {
		if code, _ := adminPost(t, proxy, f.url, "wrong", "192.0.2.1"); code != http.StatusUnauthorized {
			t.Fatalf("wrong token from 192.0.2.1 = %d; want 401", code)
		}
	}
	if code, _ := adminPost(t, proxy, f.url, "s3cret", "203.0.113.5, 192.0.2.1"); code != http.StatusTooManyRequests {
		t.Errorf("192.0.2.1 after 2 failures, a forged hop in front = %d; want 429", code)
	}
	if code, _ := adminPost(t, proxy, f.url, "s3cret", "192.0.2.2"); code != http.StatusNotFound {
		t.Errorf("the right token from another client of the proxy = %d; want 404 (past the check)", code)
	}
	for i, xff := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"} {
		want := http.StatusUnauthorized
		if i == 2 {
			want = http.StatusTooManyRequests
		}
		if code, _ := adminPost(t, other, f.url, "wrong", xff); code != want {
			t.Errorf("untrusted peer, X-Forwarded-For %s, try %d = %d; want %d", xff, i, code, want)
		}
	}
}
