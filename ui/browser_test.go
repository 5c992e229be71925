package ui

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/tabforge/tabforge/monitor"
)

// chromium is Debian's browser (installed by .ci/run); the browser test
// is skipped only where it is not installed.
const chromium = "/usr/bin/chromium"

// screenshots, when set, is the directory the browser test writes each
// page's PNG to: go test ./ui -run TestBrowser -ui.screenshots=$PWD/docs/ui
var screenshots = flag.String("ui.screenshots", "", "write page screenshots (PNG) to this directory")

// browser is one headless Chromium tab that records the console errors,
// uncaught exceptions and dialogs (an alert would mean injected script
// ran) of every page it visits.
type browser struct {
	ctx      context.Context
	mu       sync.Mutex
	problems []string
}

func newBrowser(t *testing.T) *browser {
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("%s not installed (apt-get install chromium): %v", chromium, err)
	}
	// As report's Chromium test: no sandbox (containers), no GPU, and
	// a dead proxy, so any request off the loopback test server fails
	// and shows up as a console error; the dashboard must need none.
	actx, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.ProxyServer("127.0.0.1:9"),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")), chromedp.WindowSize(1280, 900))
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancel3)
	b := &browser{ctx: ctx}
	err := chromedp.Listen(ctx, func(ev any) {
		var p string
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				p = fmt.Sprintf("console.error: %v", e.Args)
			}
		case *runtime.EventExceptionThrown:
			p = "exception: " + e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				p += " " + e.ExceptionDetails.Exception.Description
			}
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError {
				p = fmt.Sprintf("log error (%s): %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL)
			}
		case *cdppage.EventJavascriptDialogOpening:
			p = "dialog opened: " + e.Message
		}
		if p != "" {
			b.mu.Lock()
			b.problems = append(b.problems, p)
			b.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

// do runs steps, failing t on an error.
func (b *browser) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, b *browser, js string) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitFor polls a JavaScript condition (after a click that navigates)
// until it holds on a loaded page, so that the next step finds the page
// settled.
func (b *browser) waitFor(t *testing.T, js string) {
	t.Helper()
	js = `document.readyState === "complete" && (` + js + `)`
	// Evaluate in a loop rather than chromedp.Poll: the page navigates
	// while we wait, which ends a Poll with an error.
	deadline := time.Now().Add(20 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		var ok bool
		if ok, err = chromedp.Run(b.ctx, chromedp.Evaluate[bool](js, chromedp.EvalAwaitPromise)); err == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("waiting for %s: %v", js, err)
}

// check fails t with every problem the pages had so far.
func (b *browser) check(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		t.Errorf("page problem: %s", p)
	}
	b.problems = nil
}

// expect drops the problems containing text: those the test caused on
// purpose.
func (b *browser) expect(text string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = slices.DeleteFunc(b.problems, func(p string) bool { return strings.Contains(p, text) })
}

// shot writes the page's screenshot (PNG: quality 100) to the screenshots directory, if set.
func (b *browser) shot(t *testing.T, name string) {
	t.Helper()
	if *screenshots == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(*screenshots, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*screenshots, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

const rowsJS = `Array.from(document.querySelectorAll("#runs tbody tr[data-run]")).map(r => r.dataset.run)`

// TestBrowser drives the dashboard in headless Chromium against a real
// SQLite store on a loopback server: the runs list, its filters and
// sort, comparing two runs, a study, the hostile column name shown as
// text, and promote refused without the token and done with it; no page
// may log an error.
func TestBrowser(t *testing.T) {
	b := newBrowser(t)
	f := newFixture(t, openSQLite(t), 300)
	ts := serve(t, f.st, Options{AdminToken: "s3cret"})
	readOnly := serve(t, f.st, Options{})

	b.do(t, "runs page", chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#runs")))
	if total := eval[string](t, b, `document.getElementById("total").textContent`); total != fmt.Sprint(f.nRuns) {
		t.Errorf("runs page total %s; want %d", total, f.nRuns)
	}
	if rows := eval[[]string](t, b, rowsJS); len(rows) != f.nRuns || !slices.Contains(rows, "cmp-a") {
		t.Errorf("runs page rows %v; want %d with cmp-a", rows, f.nRuns)
	}
	b.shot(t, "runs")

	// Filter by status with the form: the URL carries the filter and
	// only failed runs are left.
	b.do(t, "filter", chromedp.SetValue(chromedp.CSS(`select[name="status"]`), "failed"),
		chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)))
	b.waitFor(t, `location.search.includes("status=failed") && document.readyState === "complete"`)
	statuses := eval[[]string](t, b, `Array.from(document.querySelectorAll("#runs td.status")).map(td => td.textContent)`)
	if len(statuses) != fillRuns/5 || slices.ContainsFunc(statuses, func(s string) bool { return s != "failed" }) {
		t.Errorf("after the status filter: %v; want %d failed runs", statuses, fillRuns/5)
	}

	// Sort by CV, ascending on the second click: the values are in order.
	b.do(t, "sort", chromedp.Navigate(ts.URL+"/?q=run-"), chromedp.WaitVisible(chromedp.CSS("#runs")))
	for _, order := range []string{"", "order=asc"} {
		b.do(t, "click CV", chromedp.Click(chromedp.CSS(`#runs thead a[href*="sort=cv"]`)))
		b.waitFor(t, fmt.Sprintf(`location.search.includes("sort=cv") && location.search.includes(%q) && document.readyState === "complete"`, order))
	}
	cvs := eval[[]string](t, b, `Array.from(document.querySelectorAll("#runs tbody tr")).map(r => r.children[7].textContent).filter(v => v !== "-")`)
	if len(cvs) == 0 || !slices.IsSorted(cvs) {
		t.Errorf("CV column ascending: %v", cvs)
	}

	// Compare: tick two runs, press compare; only "seed" differs.
	b.do(t, "compare", chromedp.Navigate(ts.URL+"/?q=cmp-"), chromedp.WaitVisible(chromedp.CSS("#runs")),
		chromedp.Click(chromedp.CSS(`input.pick[value="cmp-a"]`)), chromedp.Click(chromedp.CSS(`input.pick[value="cmp-b"]`)),
		chromedp.Click(chromedp.CSS("#compare-button")))
	b.waitFor(t, `location.pathname === "/compare" && document.getElementById("diff") !== null`)
	if keys := eval[[]string](t, b, `Array.from(document.querySelectorAll("#diff tbody th")).map(th => th.textContent)`); !slices.Equal(keys, []string{"seed"}) {
		t.Errorf("compare diff keys %v; want [seed]", keys)
	}
	b.shot(t, "compare")

	// The hostile names are text, in the list and on the run's page.
	b.do(t, "xss", chromedp.Navigate(ts.URL+"/runs/xss-run"), chromedp.WaitVisible(chromedp.CSS("#config")))
	if txt := eval[string](t, b, `document.querySelector("dl.facts").textContent`); !strings.Contains(txt, xss) {
		t.Errorf("run page does not show %q as text: %q", xss, txt)
	}
	if n := eval[int](t, b, `document.querySelectorAll("main script").length`); n != 0 {
		t.Errorf("%d script elements injected into the run page", n)
	}

	b.do(t, "report", chromedp.Navigate(ts.URL+"/runs/cmp-a/report/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if txt := eval[string](t, b, `document.body.textContent`); !strings.Contains(txt, f.reportOK) {
		t.Errorf("report page %q; want %q", txt, f.reportOK)
	}
	b.do(t, "run page", chromedp.Navigate(ts.URL+"/runs/cmp-a"), chromedp.WaitVisible(chromedp.CSS("#leaderboard")))
	b.waitFor(t, `new Promise(ok => { const f = document.querySelector("iframe.report"); f.addEventListener("load", () => ok(true)); setTimeout(() => ok(true), 2000); })`)
	b.shot(t, "run")
	b.do(t, "study", chromedp.Navigate(fmt.Sprintf("%s/studies/%d", ts.URL, f.studyID)), chromedp.WaitVisible(chromedp.CSS("svg#history")))
	if d := eval[string](t, b, `document.querySelector("svg#history path.best").getAttribute("d")`); !strings.HasPrefix(d, "M") {
		t.Errorf("best-so-far path %q", d)
	}
	b.shot(t, "study")
	if _, err := monitor.Record(context.Background(), f.st, monitor.DriftKind, "data/churn-2026-11.csv → data/churn-2026-12.csv", driftReport(t), time.Now()); err != nil {
		t.Fatal(err)
	}
	b.do(t, "monitor", chromedp.Navigate(ts.URL+"/monitor"), chromedp.WaitVisible(chromedp.CSS("#drift")))
	if txt := eval[string](t, b, `document.getElementById("drift").textContent`); !strings.Contains(txt, xss) {
		t.Errorf("monitor page does not show the drifted column %q as text: %q", xss, txt)
	}
	b.shot(t, "monitor")
	b.do(t, "models", chromedp.Navigate(ts.URL+"/models"), chromedp.WaitVisible(chromedp.CSS("table.versions")))
	b.shot(t, "models")

	// Promote without the token: the read-only dashboard has no form and
	// refuses the POST; the stage is unchanged.
	b.do(t, "read-only version", chromedp.Navigate(readOnly.URL+"/models/"+f.v2), chromedp.WaitVisible(chromedp.CSS("#stage")))
	if n := eval[int](t, b, `document.querySelectorAll("#promote-form").length`); n != 0 {
		t.Error("the read-only dashboard shows a promote form")
	}
	code, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`fetch("/models/`+f.v2+`/promote", {method: "POST", body: new URLSearchParams({stage: "production", token: "guess", confirm: "yes"})}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil || code != 403 {
		t.Errorf("POST promote on the read-only dashboard = %d, %v; want 403", code, err)
	}
	b.expect("403 (Forbidden)") // the refusal's own log line
	b.do(t, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#stage")))
	if st := eval[string](t, b, `document.getElementById("stage").textContent`); st != "none" {
		t.Errorf("stage after a refused promote %q; want none", st)
	}

	// With the token and the confirmation: production.
	b.do(t, "admin version", chromedp.Navigate(ts.URL+"/models/"+f.v2), chromedp.WaitVisible(chromedp.CSS("#promote-form")),
		chromedp.SetValue(chromedp.CSS(`#promote-form select[name="stage"]`), "production"),
		chromedp.SendKeys(chromedp.CSS(`#promote-form input[name="token"]`), "s3cret"),
		chromedp.SendKeys(chromedp.CSS(`#promote-form input[name="reason"]`), "browser test"),
		chromedp.Click(chromedp.CSS(`#promote-form input[name="confirm"]`)))
	b.shot(t, "version")
	b.do(t, "promote", chromedp.Click(chromedp.CSS(`#promote-form button[type="submit"]`)))
	b.waitFor(t, `location.search.includes("done=") && document.readyState === "complete"`)
	if st := eval[string](t, b, `document.getElementById("stage").textContent`); st != "production" {
		t.Errorf("stage after promote %q; want production", st)
	}
	if h := eval[string](t, b, `document.getElementById("history-table").textContent`); !strings.Contains(h, "browser test") {
		t.Errorf("history does not record the promotion: %q", h)
	}
	b.check(t)
}
