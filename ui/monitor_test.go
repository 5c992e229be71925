package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/continuous"
	"github.com/tabforge/tabforge/drift"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/monitor"
)

// TestMonitorPage: /monitor says how to record reports while there are
// none, then lists a recorded drift report (computed by drift.Compare on
// a shifted column; the hostile column name shown as text) and a
// backtest.
func TestMonitorPage(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			ts := serve(t, st, Options{})
			code, body := get(t, ts.URL, "/monitor")
			if code != 200 || !strings.Contains(body, `id="no-drift"`) || !strings.Contains(body, `id="no-backtests"`) {
				t.Fatalf("empty /monitor = %d; want both empty states", code)
			}
			rep := driftReport(t)
			now := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
			if _, err := monitor.Record(context.Background(), st, monitor.DriftKind, "ref.csv → cur.csv", rep, now); err != nil {
				t.Fatal(err)
			}
			bt := continuous.BacktestResult{Metric: "rmse", Strategies: []continuous.Strategy{{Name: "static", Mean: 2.5, Trainings: 1,
				Periods: []continuous.Period{{Start: "2026-01", Score: 2.5}}}, {Name: "continuous", Mean: 1.25, Trainings: 2, Periods: []continuous.Period{{Start: "2026-01", Score: 1.25}}}}}
			if _, err := monitor.Record(context.Background(), st, monitor.BacktestKind, "sales.csv", bt, now); err != nil {
				t.Fatal(err)
			}
			code, body = get(t, ts.URL, "/monitor")
			for _, want := range []string{`id="drift"`, "ref.csv → cur.csv", "1 of 2", "&lt;script&gt;alert(1)&lt;/script&gt;", `id="backtests"`, "continuous: 1.2500 (2,"} {
				if !strings.Contains(body, want) {
					t.Errorf("/monitor has no %q", want)
				}
			}
			if code != 200 || strings.Contains(body, xss) {
				t.Errorf("/monitor = %d, or shows the hostile name unescaped", code)
			}
		})
	}
}

// driftReport compares two small CSV files with drift.Compare: a steady
// column and one, named with the hostile string, shifted by 30.
func driftReport(t *testing.T) *drift.Report {
	dir := t.TempDir()
	write := func(file string, shift float64) string {
		var b strings.Builder
		fmt.Fprintf(&b, "steady,%q\n", xss)
		for i := range 400 {
			fmt.Fprintf(&b, "%d,%g\n", i%7, float64(i%50)+shift)
		}
		p := filepath.Join(dir, file)
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ref, cur, err := drift.ReadFiles(write("ref.csv", 0), write("cur.csv", 30), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := drift.Compare(context.Background(), ref, cur, drift.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}
