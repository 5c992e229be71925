package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tabforge/tabforge/drift"
	"github.com/tabforge/tabforge/monitor"
	"github.com/tabforge/tabforge/store"
)

// TestLongNamesWrap: a long unbroken name (a generated column, a deep
// data path) wraps inside the page in Chromium rather than widening it
// beyond the window, on every page that shows one, and is shown whole.
// A failed run's error listing a 3,000-character column made the run
// page 23,000 pixels wide.
func TestLongNamesWrap(t *testing.T) {
	ctx := context.Background()
	b := newBrowser(t)
	st := openSQLite(t)
	long := "col_" + strings.Repeat("L", 3000)
	path := "/home/alice/" + strings.Repeat("nested_directory_of_exports/", 20) + "customers_2026_12.csv"
	created := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	runs := []*store.Run{
		{ID: "20261207-050000-abcdef", Created: created, Finished: created.Add(time.Second), Status: store.Failed, DatasetPath: path,
			DatasetHash: "feedface", ConfigHash: "c1", Config: json.RawMessage(`{"target":` + quote(long) + `}`), Target: long,
			Error: fmt.Sprintf("1 column(s) not found in the data: target %q (columns: %s, y)", long, long)},
		{ID: "20261207-050100-123456", Created: created.Add(time.Minute), Finished: created.Add(2 * time.Minute), Status: store.Succeeded,
			DatasetPath: path, DatasetHash: "feedface", ConfigHash: "c2", Config: json.RawMessage(`{"target":"y"}`), Task: "binary", Target: "y"},
	}
	for _, r := range runs {
		if err := st.PutRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	rep := drift.Report{Drifted: 1, Compared: 1, DriftedShare: 1, DatasetDrift: true, Columns: []drift.Column{{Name: long, Drifted: true, PSI: 1}}}
	if _, err := monitor.Record(ctx, st, monitor.DriftKind, path+" → "+path, rep, created); err != nil {
		t.Fatal(err)
	}
	ts := serve(t, st, Options{})
	for _, p := range []string{"/", "/runs/" + runs[0].ID, "/compare?runs=" + runs[0].ID + "," + runs[1].ID, "/monitor"} {
		b.do(t, p, chromedp.Navigate(ts.URL+p), chromedp.WaitVisible(chromedp.CSS("main")))
		if w := eval[[]int](t, b, `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`); w[0] > w[1] {
			t.Errorf("%s is %d pixels wide in a window of %d", p, w[0], w[1])
		}
		if !eval[bool](t, b, fmt.Sprintf(`document.querySelector("main").textContent.includes(%q)`, long)) {
			t.Errorf("%s does not show the long name whole", p)
		}
	}
	b.check(t)
}
