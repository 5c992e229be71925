package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// startServeUI runs tabforge serve --ui on 127.0.0.1 with a fresh
// SQLite store and extra flags, and returns the dashboard's address and
// a stop that cancels the command and returns its exit code and stderr.
// It stops the command when the test ends, if the test did not.
func startServeUI(t *testing.T, extra ...string) (dash string, stop func() (int, string)) {
	t.Helper()
	var out, errb syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	args := append([]string{"serve", "--ui", "--addr", "127.0.0.1:0", "--store", "sqlite://" + filepath.Join(t.TempDir(), "tf.db")}, extra...)
	go func() { done <- run(ctx, args, &out, &errb) }()
	var once sync.Once
	code := 0
	stop = func() (int, string) {
		once.Do(func() { cancel(); code = <-done })
		return code, errb.String()
	}
	t.Cleanup(func() { stop() })
	re := regexp.MustCompile(`dashboard on (http://\S+)`)
	for deadline := time.Now().Add(30 * time.Second); dash == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			dash = m[1]
		}
	}
	if dash == "" {
		_, errs := stop()
		t.Fatalf("serve --ui printed no dashboard address: %q %q", out.String(), errs)
	}
	return dash, stop
}

// TestServeUI runs tabforge serve --ui on loopback: it prints the
// dashboard's address, the dashboard answers there beside the
// prediction server's health route but only to loopback host names, and
// cancelling stops it cleanly.
func TestServeUI(t *testing.T) {
	dash, stop := startServeUI(t)
	root := strings.TrimSuffix(dash, "/ui/")
	for path, want := range map[string]string{"/ui/": `<base href="/ui/">`, "/ui/monitor": "No drift report recorded", "/v2/health/live": ""} {
		resp, err := http.Get(root + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s%s = %d; want 200 with %q", root, path, resp.StatusCode, want)
		}
	}
	// A page of another site rebound by DNS to 127.0.0.1 must not read
	// the dashboard; the prediction routes do not depend on the Host.
	for path, want := range map[string]int{"/ui/": http.StatusMisdirectedRequest, "/v2/health/live": 200} {
		req, _ := http.NewRequest("GET", root+path, nil)
		req.Host = "rebound.example"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s%s with Host rebound.example = %d; want %d", root, path, resp.StatusCode, want)
		}
	}
	if code, errs := stop(); code != 0 {
		t.Errorf("serve --ui exit %d: %s", code, errs)
	}
}

// TestServeUIShutdownEndsEventStream stops serve --ui while a browser
// holds the dashboard's progress stream open. The stream never ends by
// itself, so the drain used to wait for it until --drain-timeout and
// then exit 1 with "requests still in flight after the drain timeout
// ... were cut off"; --help promises SIGTERM exits 0.
func TestServeUIShutdownEndsEventStream(t *testing.T) {
	dash, stop := startServeUI(t, "--drain-timeout", "2s")
	resp, err := http.Get(dash + "events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, len("event: running"))
	if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "event: running" {
		t.Fatalf("GET %sevents began %q, %v; want an event", dash, first, err)
	}
	if code, errs := stop(); code != 0 {
		t.Errorf("serve --ui with an open event stream: exit %d: %s", code, errs)
	}
}

// TestServeUITokenGuesses: serve --ui counts the admin token's wrong
// guesses once, whether sent to the admin endpoints or to the
// dashboard's forms: after five wrong bearer tokens, the dashboard's
// promote form is refused (429) even with the right token. Each kept a
// count of its own, so a guesser had five tries at each per window.
func TestServeUITokenGuesses(t *testing.T) {
	dash, _ := startServeUI(t, "--admin-token", "s3cret")
	root := strings.TrimSuffix(dash, "/ui/")
	for i := range 5 {
		req, _ := http.NewRequest(http.MethodPost, root+"/admin/models/nosuch/rollback", nil)
		req.Header.Set("Authorization", "Bearer wrong")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong bearer token %d = %d; want 401", i, resp.StatusCode)
		}
	}
	resp, err := http.PostForm(dash+"models/0123456789abcdef/promote", url.Values{"stage": {"staging"}, "token": {"s3cret"}, "confirm": {"yes"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("the dashboard's form after 5 wrong bearer tokens = %d, Retry-After %q; want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}
