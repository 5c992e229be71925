package uibench

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"time"
)

// framePage loads the page named by ?page= in a frame and writes the
// milliseconds from asking for it to its load event (the frame's HTML,
// style sheet and script loaded, its DOM built) into #ms. The frame is
// added while the page is parsed, so it delays the page's own load
// event: when Chromium's --dump-dom prints the DOM, #ms is written.
var framePage = template.Must(template.New("").Parse(`<!doctype html><html><body><pre id="ms">pending</pre>
<script>
const f = document.createElement("iframe");
f.width = 1280; f.height = 900;
const t0 = performance.now();
f.onload = function () { document.getElementById("ms").textContent = (performance.now() - t0).toFixed(1); };
f.src = {{.}};
document.body.appendChild(f);
</script></body></html>`))

var msRE = regexp.MustCompile(`<pre id="ms">([0-9.]+)</pre>`)

// browserTime is the median over repeat fresh Chromium processes of the
// time to a loaded path, served on loopback by h.
func browserTime(ctx context.Context, chromium string, h http.Handler, path string, repeat int) (float64, error) {
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.HandleFunc("GET /__bench", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		framePage.Execute(w, r.URL.Query().Get("page"))
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()
	var ms []float64
	for range repeat {
		v, err := dumpTime(ctx, chromium, ts.URL+"/__bench?page="+url.QueryEscape(path))
		if err != nil {
			return 0, err
		}
		ms = append(ms, v)
	}
	return medianOf(ms), nil
}

// dumpTime runs one headless Chromium on url and reads #ms from the DOM
// it dumps.
func dumpTime(ctx context.Context, chromium, url string) (float64, error) {
	profile, err := os.MkdirTemp("", "tabforge-bench-ui-chromium")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(profile)
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	// No sandbox (containers), no GPU, a dead proxy (loopback bypasses it):
	// the dashboard needs nothing from elsewhere.
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--user-data-dir="+profile, "--proxy-server=127.0.0.1:9",
		"--dump-dom", url)
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", chromium, err)
	}
	m := msRE.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("%s printed no load time (%d bytes of DOM)", chromium, len(out))
	}
	return strconv.ParseFloat(string(m[1]), 64)
}
