package ui

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestServeLoopbackHosts: on a loopback listener the dashboard answers
// requests addressed to loopback names and the allowed proxy names, and
// refuses any other Host with 421: a DNS-rebound page (evil.example now
// resolving to 127.0.0.1) could read every page and download model files.
func TestServeLoopbackHosts(t *testing.T) {
	f := newFixture(t, openSQLite(t), 5)
	srv, err := New(f.st, Options{AllowHosts: []string{"Dash.Internal"}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	tests := []struct {
		host string
		code int
	}{
		{"127.0.0.1:" + port, 200},
		{"localhost:" + port, 200},
		{"LOCALHOST", 200},
		{"app.localhost:" + port, 200},
		{"[::1]:" + port, 200},
		{"127.0.0.2", 200},
		{"dash.internal:" + port, 200},
		{"evil.example:" + port, 421},
		{"evil.example", 421},
		{"localhost.evil.example", 421},
		{"10.0.0.1:" + port, 421},
	}
	for _, tt := range tests {
		for _, path := range []string{"/", "/runs/cmp-a/download/model"} {
			req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+path, nil)
			req.Host = tt.host
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.code {
				t.Errorf("GET %s, Host %s = %d; want %d", path, tt.host, resp.StatusCode, tt.code)
			}
			if tt.code == 421 && (strings.Contains(string(b), "model bytes") || !strings.Contains(string(b), "--allow-host")) {
				t.Errorf("GET %s, Host %s: %.200q; want the refusal naming --allow-host", path, tt.host, b)
			}
		}
	}
}
