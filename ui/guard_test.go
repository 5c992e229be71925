package ui

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// clientFrom is an HTTP client whose connections come from the local
// address ip (any 127.0.0.0/8 address is loopback on Linux), and that
// does not follow redirects.
func clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{
		Transport:     &http.Transport{DialContext: d.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// TestTokenGuesses: after TokenFailures wrong admin tokens from one
// address, its write requests get 429 with Retry-After, the right token
// included, until the window ends; another address's right token works
// meanwhile; a right token clears an address's count.
func TestTokenGuesses(t *testing.T) {
	f := newFixture(t, openSQLite(t), 3)
	srv, err := New(f.st, Options{AdminToken: "s3cret", TokenFailures: 3, TokenWindow: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	// The handlers read the clock the test moves: atomically.
	var clock atomic.Int64
	clock.Store(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC).UnixNano())
	srv.guard.now = func() time.Time { return time.Unix(0, clock.Load()) }
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	guesser, owner := clientFrom(t, "127.0.0.1"), clientFrom(t, "127.0.0.2")
	promote := ts.URL + "/models/" + f.v2 + "/promote"
	post := func(c *http.Client, token string) (int, string) {
		t.Helper()
		resp, err := c.PostForm(promote, url.Values{"stage": {"staging"}, "token": {token}, "confirm": {"yes"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	// A right token clears the count: two wrong, one right, two wrong
	// are below three in a row.
	for i, tok := range []string{"a", "b", "s3cret", "c", "d"} {
		want := http.StatusForbidden
		if tok == "s3cret" {
			want = http.StatusSeeOther
		}
		if code, _ := post(guesser, tok); code != want {
			t.Fatalf("try %d (%s) = %d; want %d", i, tok, code, want)
		}
	}
	if code, _ := post(guesser, "e"); code != http.StatusForbidden {
		t.Fatalf("third wrong token = %d; want 403", code)
	}
	clock.Add(int64(10 * time.Second))
	for _, tok := range []string{"f", "s3cret"} {
		code, retry := post(guesser, tok)
		secs, err := strconv.Atoi(retry)
		// The window began with the first of the three failures, at the
		// start; 10 s have passed of its 60.
		if code != http.StatusTooManyRequests || err != nil || secs != 50 {
			t.Errorf("token %q after 3 failures = %d, Retry-After %q; want 429, 50", tok, code, retry)
		}
	}
	if code, _ := post(owner, "s3cret"); code != http.StatusSeeOther {
		t.Errorf("the right token from another address = %d; want 303", code)
	}
	if code, _ := post(owner, "wrong"); code != http.StatusForbidden {
		t.Errorf("a wrong token from another address = %d; want 403", code)
	}
	clock.Add(int64(50 * time.Second)) // the window has ended
	if code, _ := post(guesser, "s3cret"); code != http.StatusSeeOther {
		t.Errorf("the right token after the window = %d; want 303", code)
	}
	// Reads are never limited.
	resp, err := guesser.Get(ts.URL + "/models")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /models = %d; want 200", resp.StatusCode)
	}
}

func TestClientOf(t *testing.T) {
	for _, tt := range []struct{ a, b string }{
		{"192.0.2.1:1", "192.0.2.1:2"},
		{"[2001:db8::1]:1", "[2001:db8::ffff]:2"},
		{"[::ffff:192.0.2.1]:1", "192.0.2.1:3"},
	} {
		if clientOf(tt.a) != clientOf(tt.b) {
			t.Errorf("clientOf(%s) = %v, clientOf(%s) = %v; want one client", tt.a, clientOf(tt.a), tt.b, clientOf(tt.b))
		}
	}
	if clientOf("192.0.2.1:1") == clientOf("192.0.2.2:1") || clientOf("[2001:db8:0:1::1]:1") == clientOf("[2001:db8:0:2::1]:1") {
		t.Error("clientOf joins different hosts")
	}
}
