package ui

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
)

// TestCompareCharts: the compare page draws each run's leaderboard and
// overlays predicted against actual from the runs' report.json, naming
// the runs it cannot draw and why.
func TestCompareCharts(t *testing.T) {
	st := openSQLite(t)
	ctx := context.Background()
	dir := t.TempDir()
	created := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	for i, id := range []string{"reg-a", "reg-b"} {
		report := filepath.Join(dir, id, "report.html")
		if i == 0 {
			os.MkdirAll(filepath.Dir(report), 0o755)
			data, _ := json.Marshal(map[string]any{"test": map[string]any{"y": []float64{1, 2, 3, 4}, "pred": []float64{1.5, 2, 2.5, 4.2}}})
			if err := os.WriteFile(filepath.Join(dir, id, "report.json"), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		res, _ := json.Marshal(map[string]any{"metric": "rmse", "task": "regression", "report": report, "leaderboard": []map[string]any{
			{"model": "gbdt", "cv": map[string]float64{"rmse": 0.5 + float64(i)}}, {"model": "ridge", "cv": map[string]float64{"rmse": 0.9}}}})
		if err := st.PutRun(ctx, &store.Run{ID: id, Created: created, Status: store.Succeeded, Config: json.RawMessage(`{}`), Task: "regression", Result: res}); err != nil {
			t.Fatal(err)
		}
	}
	ts := serve(t, st, Options{})
	code, body := get(t, ts.URL, "/compare?runs=reg-a,reg-b")
	if code != 200 {
		t.Fatalf("compare = %d", code)
	}
	if n := strings.Count(body, `<figure class="board">`); n != 2 {
		t.Errorf("%d leaderboard charts; want 2", n)
	}
	// reg-b's gbdt (1.5) is the longest bar: 200 px on the shared scale.
	if !regexp.MustCompile(`>gbdt</text><rect x="122" y="2" width="200"`).MatchString(body) {
		t.Error("the leaderboards do not share one scale (reg-b's gbdt should be the full 200 px)")
	}
	series := regexp.MustCompile(`<path class="overlay s(\d)" d="([^"]*)"`).FindAllStringSubmatch(body, -1)
	if len(series) != 1 || strings.Count(series[0][2], "h0") != 4 {
		t.Errorf("overlay series %v; want reg-a's 4 points", series)
	}
	if !strings.Contains(body, "reg-b: its report.json is not on this machine") {
		t.Error("the overlay does not say why reg-b is missing")
	}
}
