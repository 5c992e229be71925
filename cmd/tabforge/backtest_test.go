package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/monitor"
)

// TestBacktestCommand runs a two-month backtest of Texas housing with
// ridge models: --json has the metric and each strategy's mean, training
// time and count, refreshes and periods, --html writes the chart, and a missing --start is
// bad usage.
func TestBacktestCommand(t *testing.T) {
	dir := t.TempDir()
	data, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "txhousing.csv"))
	html := filepath.Join(dir, "backtest.html")
	args := []string{"backtest", "--data", data, "--target", "median", "--time-column", "date", "--drop", "volume",
		"--every", "month", "--periods", "2", "--models", "ridge", "--cv-folds", "0", "--html", html}
	if code, _, stderr := tabforge(t, dir, args...); code != 2 || !strings.Contains(stderr, "--start") {
		t.Errorf("backtest without --start: exit %d, %s; want 2 naming --start", code, stderr)
	}
	// A period or start no time column could use is bad usage too, said
	// before the data is read (it was exit 1, after reading it).
	for _, bad := range [][]string{{"--start", "2010-01-01", "--every", "fortnight"}, {"--start", "2010-13-01"}, {"--start", "2010-01-01", "--every", "-3"},
		{"--start", "2010-01-01", "--periods", "-1"}} { // -1 ran to the end of the data
		if code, _, stderr := tabforge(t, dir, append(args, bad...)...); code != 2 || !strings.Contains(stderr, bad[len(bad)-1]) {
			t.Errorf("backtest %v: exit %d, %s; want 2 naming the value", bad, code, stderr)
		}
	}
	code, out, stderr := tabforge(t, dir, append(args, "--start", "2010-01-01", "--json", "--record")...)
	if code != 0 {
		t.Fatalf("backtest: exit %d\n%s", code, stderr)
	}
	var r struct {
		Record     struct{ Store, Kind, Key string }
		Metric     string
		Strategies []struct {
			Name         string
			Mean         *float64
			TrainSeconds *float64 `json:"train_seconds"`
			Trainings    *int
			Refreshes    *int // written as 0 too (it was omitted, though the README names it)
			Periods      []map[string]any
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("backtest --json: %v\n%s", err, out)
	}
	if r.Metric != "r2" || len(r.Strategies) != 3 || r.Record.Kind != monitor.BacktestKind || r.Record.Key == "" {
		t.Fatalf("backtest --json = %s", out)
	}
	for _, s := range r.Strategies {
		if s.Mean == nil || s.TrainSeconds == nil || s.Trainings == nil || s.Refreshes == nil || len(s.Periods) != 2 {
			t.Errorf("strategy %s: %s; want a mean, train_seconds, trainings, refreshes and 2 periods", s.Name, out)
		}
	}
	if b, err := os.ReadFile(html); err != nil || !strings.Contains(string(b), "<svg") {
		t.Errorf("--html: %v", err)
	}
	// The text run says where --record kept its report.
	code, out, stderr = tabforge(t, dir, append(args, "--start", "2010-01-01", "--record")...)
	if code != 0 || !strings.Contains(out, "continuous") || !strings.Contains(out, "2010-02-01") {
		t.Errorf("backtest: exit %d\n%s%s", code, out, stderr)
	}
	if line := lastLine(out); !strings.HasPrefix(line, "recorded this backtest in "+r.Record.Store+" as "+monitor.BacktestKind+" ") {
		t.Errorf("backtest --record ended %q; want where it recorded the report", line)
	}
}
