package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServeUI runs tabforge serve --ui on loopback: it prints the
// dashboard's address, the dashboard answers there beside the
// prediction server's health route but only to loopback host names, and
// cancelling stops it cleanly.
func TestServeUI(t *testing.T) {
	dir := t.TempDir()
	var out, errb syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--ui", "--addr", "127.0.0.1:0", "--store", "sqlite://" + filepath.Join(dir, "tf.db")}, &out, &errb)
	}()
	var dash string
	re := regexp.MustCompile(`dashboard on (http://\S+)`)
	for deadline := time.Now().Add(30 * time.Second); dash == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			dash = m[1]
		}
	}
	if dash == "" {
		cancel()
		t.Fatalf("serve --ui printed no dashboard address: %q %q", out.String(), errb.String())
	}
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
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve --ui exit %d: %s", code, errb.String())
	}
}

// TestServeUIShutdownEndsEventStream stops serve --ui while a browser
// holds the dashboard's progress stream open. The stream never ends by
// itself, so the drain used to wait for it until --drain-timeout and
// then exit 1 with "requests still in flight after the drain timeout
// ... were cut off"; --help promises SIGTERM exits 0.
func TestServeUIShutdownEndsEventStream(t *testing.T) {
	dir := t.TempDir()
	var out, errb syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--ui", "--addr", "127.0.0.1:0", "--drain-timeout", "2s",
			"--store", "sqlite://" + filepath.Join(dir, "tf.db")}, &out, &errb)
	}()
	var dash string
	re := regexp.MustCompile(`dashboard on (http://\S+)`)
	for deadline := time.Now().Add(30 * time.Second); dash == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			dash = m[1]
		}
	}
	if dash == "" {
		t.Fatalf("serve --ui printed no dashboard address: %q %q", out.String(), errb.String())
	}
	resp, err := http.Get(dash + "events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, len("event: running"))
	if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "event: running" {
		t.Fatalf("GET %sevents began %q, %v; want an event", dash, first, err)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve --ui with an open event stream: exit %d: %s", code, errb.String())
	}
}
