package ui

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tabforge/tabforge/registry"
	predserve "github.com/tabforge/tabforge/serve"
	"github.com/tabforge/tabforge/store/storetest"
)

// TestMountedInServe serves the dashboard under /ui/ beside the
// prediction routes of a serve.Server (as tabforge serve --ui does) on a
// real loopback listener: its pages, assets and event stream answer
// under the prefix, the prediction server's own routes still answer,
// and in Chromium the links stay under /ui/.
func TestMountedInServe(t *testing.T) {
	st := openSQLite(t)
	storetest.FillRuns(t, st, 12, 1)
	dash, err := New(st, Options{Prefix: "/ui/"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := predserve.New(ctx, registry.New(st), predserve.Options{Mount: map[string]http.Handler{"/ui/": dash}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	base := "http://" + ln.Addr().String()
	tests := []struct {
		path string
		code int
		want string
	}{
		{"/ui/", 200, `<base href="/ui/">`},
		{"/ui/?status=failed", 200, `<span id="total">3</span>`},
		{"/ui/runs/run-00001", 200, `id="config"`},
		{"/ui/static/style.css", 200, "prefers-color-scheme"},
		{"/ui/studies/7", 404, "not found"},
		{"/v2/health/live", 200, ""},
		{"/runs/run-00001", 404, ""}, // only under the prefix
	}
	for _, tt := range tests {
		code, body := get(t, base, tt.path)
		if code != tt.code || !strings.Contains(body, tt.want) {
			t.Errorf("GET %s = %d %.300q; want %d with %q", tt.path, code, body, tt.code, tt.want)
		}
	}
	// The runs page's sort links are relative to the base: under /ui/.
	if _, body := get(t, base, "/ui/"); !strings.Contains(body, `href="./?sort=dataset"`) {
		t.Error("the runs page's sort links are not relative")
	}

	if _, err := predserve.New(ctx, registry.New(st), predserve.Options{Mount: map[string]http.Handler{"POST /invocations": dash}}); err == nil {
		t.Error("serve.New accepted a mount over the prediction route")
	}

	b := newBrowser(t)
	b.do(t, "runs under /ui/", chromedp.Navigate(base+"/ui/?q=run-0000"), chromedp.WaitVisible(chromedp.CSS("#runs")),
		chromedp.Click(chromedp.CSS(`#runs a[href="runs/run-00001"]`)))
	b.waitFor(t, `location.pathname === "/ui/runs/run-00001" && document.getElementById("config") !== null`)
	// Clicked from the page's script: chromedp's Click resolves a node of
	// the DOM tree it tracks, which a navigation just finished can leave
	// stale ("Could not find node with given id", one CI run in many).
	b.do(t, "nav", chromedp.Evaluate[chromedp.Void](`document.querySelector('nav a[href="studies"]').click()`))
	b.waitFor(t, `location.pathname === "/ui/studies" && document.readyState === "complete"`)
	b.check(t)
}
