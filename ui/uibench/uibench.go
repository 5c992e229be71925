// Package uibench times the dashboard at the scale: the first
// render of the runs page and of a study's page over 10,000 synthetic
// runs and 10,000 trials, in SQLite and in Redis, as server time (the
// handler producing the whole page, in process) and as time to a
// rendered page in headless Chromium. tabforge bench ui prints it.
//
// The browser time needs no driver library: Chromium is started with
// --dump-dom on a small page of the bench's own that loads the dashboard
// page in a frame and writes, when the frame has loaded (its HTML, style
// sheet and script), the milliseconds since it asked for it. Every
// browser run is a fresh process, so nothing is cached.
package uibench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	redigo "github.com/gomodule/redigo/redis"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/sqlite"
	"github.com/tabforge/tabforge/ui"
)

// Options configure Run; the zero value times SQLite only, at the
// issue's scale, without a browser.
type Options struct {
	// Runs and Trials are the synthetic store's size; 0 means 10,000.
	Runs, Trials int
	// Redis, if set, is a Redis URL the bench also fills, under a fresh
	// key prefix it deletes at the end.
	Redis string
	// Chromium is the browser binary for the rendered-page time; ""
	// skips it.
	Chromium string
	// Repeat is how many times each page is rendered (the median is
	// reported); 0 means 5.
	Repeat int
	// Seed seeds the synthetic runs and trials.
	Seed uint64
	// Log, if set, receives what the bench is doing.
	Log io.Writer
}

// Timing is one page's times on one store.
type Timing struct {
	Store string `json:"store"`
	Page  string `json:"page"`
	Items int    `json:"items"` // runs or trials behind the page
	// FirstMS is the first render after the store was filled; MedianMS
	// the median of Repeat renders after it; both server time.
	FirstMS  float64 `json:"first_ms"`
	MedianMS float64 `json:"median_ms"`
	// BrowserMS is the median time to a loaded page in Chromium (0 when
	// not measured).
	BrowserMS float64 `json:"browser_ms,omitempty"`
	Bytes     int     `json:"bytes"`
}

func (o Options) withDefaults() Options {
	if o.Runs <= 0 {
		o.Runs = 10_000
	}
	if o.Trials <= 0 {
		o.Trials = 10_000
	}
	if o.Repeat <= 0 {
		o.Repeat = 5
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o
}

// Run fills a temporary SQLite store (and Redis, with Options.Redis) and
// times the pages. Everything it writes is removed when it returns.
func Run(ctx context.Context, o Options) ([]Timing, error) {
	o = o.withDefaults()
	dir, err := os.MkdirTemp("", "tabforge-bench-ui")
	if err != nil {
		return nil, fmt.Errorf("bench ui: %w", err)
	}
	defer os.RemoveAll(dir)
	sq, err := sqlite.Open(ctx, filepath.Join(dir, "tf.db"))
	if err != nil {
		return nil, fmt.Errorf("bench ui: %w", err)
	}
	defer sq.Close()
	out, err := bench(ctx, "sqlite", sq, o)
	if err != nil || o.Redis == "" {
		return out, err
	}
	rs, err := openRedis(ctx, o.Redis)
	if err != nil {
		return out, err
	}
	defer rs.Close()
	defer clearPrefix(context.WithoutCancel(ctx), rs)
	more, err := bench(ctx, "redis", rs, o)
	return append(out, more...), err
}

// openRedis opens url under a fresh prefix, so the bench's records
// never mix with what the server holds.
func openRedis(ctx context.Context, url string) (*redis.Store, error) {
	b := make([]byte, 6)
	rand.Read(b)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	rs, err := redis.Open(ctx, url+sep+"prefix=tfbenchui-"+hex.EncodeToString(b)+":")
	if err != nil {
		return nil, fmt.Errorf("bench ui: %w", err)
	}
	return rs, nil
}

// clearPrefix deletes every key under rs's prefix (SCAN, then DEL in
// batches); what it cannot delete stays, under the bench's own prefix.
func clearPrefix(ctx context.Context, rs *redis.Store) {
	cursor := "0"
	for {
		reply, err := redigo.Values(rs.Do(ctx, "SCAN", cursor, "MATCH", rs.Prefix()+"*", "COUNT", 1000))
		if err != nil || len(reply) != 2 {
			return
		}
		keys, err := redigo.Strings(reply[1], nil)
		if err != nil {
			return
		}
		if len(keys) > 0 {
			args := make([]any, len(keys))
			for i, k := range keys {
				args[i] = k
			}
			if _, err := rs.Do(ctx, "DEL", args...); err != nil {
				return
			}
		}
		if cursor, err = redigo.String(reply[0], nil); err != nil || cursor == "0" {
			return
		}
	}
}

// bench fills st and times its pages.
func bench(ctx context.Context, name string, st store.Store, o Options) ([]Timing, error) {
	t0 := time.Now()
	if err := FillRuns(ctx, st, o.Runs, o.Seed); err != nil {
		return nil, fmt.Errorf("bench ui: %s: %w", name, err)
	}
	id, err := FillStudy(ctx, st, "bench/ui", o.Trials, o.Seed)
	if err != nil {
		return nil, fmt.Errorf("bench ui: %s: %w", name, err)
	}
	fmt.Fprintf(o.Log, "bench ui: %s filled with %d runs and %d trials in %s\n", name, o.Runs, o.Trials, time.Since(t0).Round(time.Millisecond))
	srv, err := ui.New(st, ui.Options{})
	if err != nil {
		return nil, err
	}
	pages := []struct {
		path  string
		items int
	}{{"/", o.Runs}, {fmt.Sprintf("/?status=succeeded&sort=cv&order=asc&offset=%d", o.Runs/2), o.Runs}, {fmt.Sprintf("/studies/%d", id), o.Trials}}
	var out []Timing
	for _, p := range pages {
		t := Timing{Store: name, Page: p.path, Items: p.items}
		if t.FirstMS, t.MedianMS, t.Bytes, err = serverTimes(ctx, srv, p.path, o.Repeat); err != nil {
			return nil, fmt.Errorf("bench ui: %s %s: %w", name, p.path, err)
		}
		if o.Chromium != "" {
			if t.BrowserMS, err = browserTime(ctx, o.Chromium, srv, p.path, o.Repeat); err != nil {
				return nil, fmt.Errorf("bench ui: %s %s in chromium: %w", name, p.path, err)
			}
		}
		fmt.Fprintf(o.Log, "bench ui: %s %s: %.1f ms\n", name, p.path, t.MedianMS)
		out = append(out, t)
	}
	return out, nil
}

// serverTimes renders path repeat+1 times in process: the first render,
// the median of the others, and the page's size.
func serverTimes(ctx context.Context, h http.Handler, path string, repeat int) (first, median float64, size int, err error) {
	var ms []float64
	for i := range repeat + 1 {
		rec := httptest.NewRecorder()
		req := httptest.NewRequestWithContext(ctx, "GET", path, nil)
		t0 := time.Now()
		h.ServeHTTP(rec, req)
		d := float64(time.Since(t0).Microseconds()) / 1000
		if rec.Code != http.StatusOK {
			return 0, 0, 0, fmt.Errorf("status %d: %.200s", rec.Code, rec.Body.String())
		}
		if i == 0 {
			first, size = d, rec.Body.Len()
			continue
		}
		ms = append(ms, d)
	}
	return first, medianOf(ms), size, nil
}

func medianOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// Print writes timings as a table.
func Print(w io.Writer, ts []Timing) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "store\tpage\titems\tfirst ms\tmedian ms\tchromium ms\tKiB\t")
	for _, t := range ts {
		b := "-"
		if t.BrowserMS > 0 {
			b = fmt.Sprintf("%.0f", t.BrowserMS)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\t%.1f\t%s\t%d\t\n", t.Store, t.Page, t.Items, t.FirstMS, t.MedianMS, b, t.Bytes/1024)
	}
	return tw.Flush()
}
