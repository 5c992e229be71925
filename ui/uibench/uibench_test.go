package uibench

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/store/redis/redistest"
)

// TestRunSmall is the bench's smoke run at a tiny scale: every page
// renders on SQLite (in Chromium too, where it is installed) and on
// Redis when $TABFORGE_TEST_REDIS is set (server time only, to keep the
// smoke run short), each timing is positive, and the table lists every
// row.
func TestRunSmall(t *testing.T) {
	o := Options{Runs: 60, Trials: 40, Repeat: 1, Seed: 3}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		o.Chromium = "/usr/bin/chromium"
	}
	check(t, o, 1)
	if url := os.Getenv(redistest.EnvURL); url != "" {
		o.Chromium = ""
		o.Redis = url
		check(t, o, 2)
	}
}

func check(t *testing.T, o Options, stores int) {
	t.Helper()
	ts, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 3*stores {
		t.Fatalf("%d timings; want 3 pages × %d stores: %+v", len(ts), stores, ts)
	}
	for _, tm := range ts {
		if tm.FirstMS <= 0 || tm.MedianMS <= 0 || tm.Bytes == 0 || (o.Chromium != "" && tm.BrowserMS <= 0) {
			t.Errorf("timing %+v: want positive times and a page", tm)
		}
	}
	var b bytes.Buffer
	if err := Print(&b, ts); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "/studies/"); n != stores {
		t.Errorf("table lists %d study rows; want %d:\n%s", n, stores, b.String())
	}
}
