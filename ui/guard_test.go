package ui

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tabforge/tabforge/internal/tokenguard"
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
// meanwhile; a right token clears an address's count; a refused form
// does not count.
func TestTokenGuesses(t *testing.T) {
	f := newFixture(t, openSQLite(t), 3)
	srv, err := New(f.st, Options{AdminToken: "s3cret", TokenFailures: 3, TokenWindow: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	// The handlers read the clock the test moves: atomically.
	var clock atomic.Int64
	clock.Store(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC).UnixNano())
	srv.guard = tokenguard.New(tokenguard.Options{Failures: 3, Window: time.Minute, Now: func() time.Time { return time.Unix(0, clock.Load()) }})
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
	// Forms refused before their token is compared (413) are no tries:
	// as many as the limit leave the next wrong tokens 403.
	pad := strings.Repeat("x", maxForm)
	for range 3 {
		resp, err := guesser.PostForm(promote, url.Values{"token": {"wrong"}, "pad": {pad}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("a form over %d bytes = %d; want 413", maxForm, resp.StatusCode)
		}
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

// TestTokenGuessesConcurrent: wrong tokens sent at once from one
// address are limited like ones sent in turn. Each request asks to
// send its body only once the handler reads it (Expect: 100-continue),
// and no body is sent until every request has had its first answer, so
// that every handler has passed the limit's check before any token is
// compared: only TokenFailures of them may get that far (100 Continue,
// then 403); the others get 429 at once. The check and the count were
// apart, with the body read between them, so all of them got 100 and
// a 403: a guesser with slow connections had any number of tries.
func TestTokenGuessesConcurrent(t *testing.T) {
	const failures, guessers = 5, 20
	f := newFixture(t, openSQLite(t), 3)
	srv, err := New(f.st, Options{AdminToken: "s3cret", TokenFailures: failures, TokenWindow: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	form := url.Values{"stage": {"staging"}, "token": {"wrong"}, "confirm": {"yes"}}.Encode()
	head := "POST /models/" + f.v2 + "/promote HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
		"Content-Type: application/x-www-form-urlencoded\r\nExpect: 100-continue\r\n" +
		"Content-Length: " + strconv.Itoa(len(form)) + "\r\n\r\n"
	type guess struct {
		conn net.Conn
		r    *bufio.Reader
	}
	var held []guess
	tooMany := 0
	for i := range guessers {
		conn, err := net.Dial("tcp", ts.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		// A deadline turns a server that never answers into a failure,
		// not a hung test; nothing here waits on time otherwise.
		conn.SetDeadline(time.Now().Add(time.Minute))
		if _, err := io.WriteString(conn, head); err != nil {
			t.Fatal(err)
		}
		g := guess{conn, bufio.NewReader(conn)}
		resp, err := http.ReadResponse(g.r, nil)
		if err != nil {
			t.Fatalf("guess %d: %v", i, err)
		}
		switch resp.StatusCode {
		case http.StatusContinue:
			held = append(held, g)
		case http.StatusTooManyRequests:
			tooMany++
			resp.Body.Close()
		default:
			t.Fatalf("guess %d: first answer %s; want 100 or 429", i, resp.Status)
		}
	}
	if len(held) != failures || tooMany != guessers-failures {
		t.Errorf("%d wrong tokens at once: %d let through to the token check, %d refused (429); want %d and %d",
			guessers, len(held), tooMany, failures, guessers-failures)
	}
	for i, g := range held {
		if _, err := io.WriteString(g.conn, form); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(g.r, nil)
		if err != nil {
			t.Fatalf("held guess %d: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("held guess %d = %s; want 403", i, resp.Status)
		}
	}
	// The held guesses counted as the address's failures: the right
	// token now waits for the window too.
	resp, err := http.PostForm(ts.URL+"/models/"+f.v2+"/promote", url.Values{"stage": {"staging"}, "token": {"s3cret"}, "confirm": {"yes"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the right token after %d wrong ones = %d; want 429", failures, resp.StatusCode)
	}
}
