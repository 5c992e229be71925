package ui

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/monitor"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
)

// hostile are names a data file may carry, each of which would set the
// page's title to pwned if the page ran it as script.
var hostile = []string{
	`<script>document.title="pwned"</script>`,
	`"><img src=x onerror="document.title='pwned'">`,
	"`${document.title='pwned'}`",
	`</script><script>document.title="pwned"</script>`,
	"\u202eRTL\u202c 🧪 'single' & \"double\"",
	"generated_" + strings.Repeat("L", 3000),
}

// hostileData writes a binary data file whose directory, file name,
// columns, target and class labels are hostile, and returns its path and
// target.
func hostileData(t *testing.T) (path, target string) {
	dir := filepath.Join(t.TempDir(), `dir<img src=x onerror="document.title='pwned'">`)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path, target = filepath.Join(dir, `da"ta<script>.csv`), `y<b>"'`
	labels := []string{`<img src=x onerror="document.title='pwned'">`, "</script>\"'`🧪"}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.Write(append(append([]string(nil), hostile...), target))
	rng := rand.New(rand.NewPCG(7, 7))
	for range 200 {
		a, b := rng.Float64(), rng.Float64()
		label := labels[0]
		if a+b+rng.NormFloat64()/5 > 1 {
			label = labels[1]
		}
		w.Write([]string{fmt.Sprint(a), fmt.Sprint(b), []string{"<b>x</b>", `"q"`, "`t`"}[rng.IntN(3)], fmt.Sprint(rng.Float64()), fmt.Sprint(rng.Float64()),
			fmt.Sprint(rng.Float64()), label})
	}
	w.Flush()
	if err := errors.Join(w.Error(), f.Close()); err != nil {
		t.Fatal(err)
	}
	return path, target
}

// TestHostileNamesInBrowser trains real models, with tuning, on a data
// file whose path, columns, target and class labels are hostile, records
// a run that failed on a hostile target, and loads every page of the
// dashboard in Chromium (the report too, which runs inline script): no
// script of the data runs (each would set the title), no page logs an
// error (a script the CSP blocked would), the names read as typed, and a
// 3,000-character one wraps within the window.
func TestHostileNamesInBrowser(t *testing.T) {
	ctx := context.Background()
	b := newBrowser(t)
	st := openSQLite(t)
	arts, err := artifact.Open(ctx, filepath.Join(t.TempDir(), "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { arts.Close() })
	data, target := hostileData(t)
	o := pipeline.Options{Runs: st, Studies: st, Registrar: pipeline.StoreRegistrar{Registry: registry.New(st), Artifacts: arts, CodeVersion: "test"}}
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Name, cfg.Out = data, target, "hostile", t.TempDir()
	cfg.Models, cfg.CVFolds, cfg.EnableHyperparameterTuning, cfg.MaxEvals, cfg.ForceProductionQuality = []string{"logistic"}, 2, true, 3, false
	res, err := pipeline.Train(ctx, cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	bad := cfg
	bad.Target = `"><svg onload="document.title='pwned'">`
	if _, err := pipeline.Train(ctx, bad, o); err == nil {
		t.Fatal("training on a missing target succeeded")
	}
	fp, err := store.QueryRuns(ctx, st, store.RunQuery{Status: store.Failed})
	if err != nil || len(fp.Rows) != 1 {
		t.Fatalf("failed runs %v, %v; want the one of the missing target", fp, err)
	}
	failed := fp.Rows
	if _, err := monitor.Record(ctx, st, monitor.DriftKind, hostile[1]+" → "+hostile[3], driftReport(t), time.Now()); err != nil {
		t.Fatal(err)
	}
	studies, err := st.ListStudies(ctx)
	if err != nil || len(studies) == 0 {
		t.Fatalf("studies %v, %v; want the tuning's", studies, err)
	}
	models, err := registry.New(st).List(ctx, "hostile")
	if err != nil || len(models) != 1 {
		t.Fatalf("versions of hostile %v, %v; want 1", models, err)
	}
	ts := serve(t, st, Options{AdminToken: "s3cret"})

	q := url.QueryEscape(hostile[1])
	pages := []string{"/", "/?q=" + q, "/runs/" + res.RunID, "/runs/" + failed[0].ID, "/runs/" + res.RunID + "/report/",
		"/compare?runs=" + res.RunID + "," + failed[0].ID, "/studies", "/studies?q=" + q, fmt.Sprintf("/studies/%d", studies[0].ID),
		"/models", "/models/" + models[0].Version, "/monitor", "/runs/" + url.PathEscape(hostile[0]), "/models/" + url.PathEscape(hostile[1])}
	for _, p := range pages {
		b.do(t, p, chromedp.Navigate(ts.URL+p), chromedp.WaitReady(chromedp.CSS("body")))
		// The run page's report loads in a frame: wait for it.
		b.waitFor(t, `Array.from(document.querySelectorAll("iframe")).every(f => f.contentDocument && f.contentDocument.readyState === "complete")`)
		titles := eval[[]string](t, b, `[document.title].concat(Array.from(document.querySelectorAll("iframe")).map(f => f.contentDocument.title))`)
		if strings.Contains(strings.Join(titles, " "), "pwned") {
			t.Errorf("%s ran a script of the data: titles %q", p, titles)
		}
		if w := eval[[]int](t, b, `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`); w[0] > w[1] {
			t.Errorf("%s is %d pixels wide in a window of %d: a long name does not wrap", p, w[0], w[1])
		}
	}
	b.expect("404 (Not Found)") // the two unknown ids' pages
	b.check(t)

	// The names read as typed: the run's facts, the failed run's error,
	// the report's tables.
	b.do(t, "run", chromedp.Navigate(ts.URL+"/runs/"+res.RunID), chromedp.WaitVisible(chromedp.CSS("dl.facts")))
	if txt := eval[string](t, b, `document.querySelector("dl.facts").textContent`); !strings.Contains(txt, data) || !strings.Contains(txt, target) {
		t.Errorf("run facts %q; want the data path %q and target %q as typed", txt, data, target)
	}
	b.do(t, "failed run", chromedp.Navigate(ts.URL+"/runs/"+failed[0].ID), chromedp.WaitVisible(chromedp.CSS("dd.error")))
	errText := eval[string](t, b, `document.querySelector("dd.error").textContent`)
	b.do(t, "report", chromedp.Navigate(ts.URL+"/runs/"+res.RunID+"/report/"), chromedp.WaitReady(chromedp.CSS("main")))
	if s := eval[string](t, b, `document.documentElement.dataset.status`); s != "ok" {
		t.Errorf("the report's data-status %q under the dashboard's CSP; want ok", s)
	}
	report := eval[string](t, b, `document.body.textContent`)
	for _, h := range hostile {
		if !strings.Contains(errText, h) {
			t.Errorf("the failed run's error does not show %q as typed: %q", h, errText)
		}
		if !strings.Contains(report, h) {
			t.Errorf("the report does not show the column %q as typed", h)
		}
	}
	b.check(t)
}
