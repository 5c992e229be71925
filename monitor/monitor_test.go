package monitor_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/tabforge/tabforge/monitor"
	"github.com/tabforge/tabforge/store/sqlite"
)

// TestRecordList: entries come back newest first with their reports,
// limit bounds them, kinds are apart, and a corrupt record is skipped.
func TestRecordList(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tf.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for i, title := range []string{"first", "second", "third"} {
		if _, err := monitor.Record(ctx, st, monitor.DriftKind, title, map[string]int{"n": i}, t0.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := monitor.Record(ctx, st, monitor.BacktestKind, "bt", map[string]string{"metric": "rmse"}, t0); err != nil {
		t.Fatal(err)
	}
	if err := st.PutRecord(ctx, monitor.DriftKind, "9999", []byte("not json")); err != nil {
		t.Fatal(err)
	}
	got, err := monitor.List(ctx, st, monitor.DriftKind, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Title != "third" || got[1].Title != "second" || !got[0].Created.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("List(drift, 2) = %+v; want third, second", got)
	}
	var rep map[string]int
	if err := json.Unmarshal(got[0].Report, &rep); err != nil || rep["n"] != 2 {
		t.Errorf("report %s, %v", got[0].Report, err)
	}
	if bt, err := monitor.List(ctx, st, monitor.BacktestKind, 0); err != nil || len(bt) != 1 || bt[0].Title != "bt" {
		t.Errorf("List(backtest) = %+v, %v", bt, err)
	}
}
