package monitor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/tabforge/tabforge/drift"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/monitor"
	"github.com/tabforge/tabforge/store/sqlite"
)

// Record keeps a drift report in the store; List reads the reports back,
// newest first, as the dashboard's /monitor page does.
func ExampleRecord() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "tabforge-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "tabforge.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	prices := []float64{1, 2, 3, 4, 5, 6, 7, 8}
	ref := frame.MustNew(frame.NewNumeric("price", prices))
	day := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for week, shift := range []float64{0, 100} {
		cur := make([]float64, len(prices))
		for i, p := range prices {
			cur[i] = p + shift
		}
		r, err := drift.Compare(ctx, ref, frame.MustNew(frame.NewNumeric("price", cur)), drift.Options{})
		if err != nil {
			log.Fatal(err)
		}
		title := fmt.Sprintf("week %d", week+1)
		if _, err := monitor.Record(ctx, st, monitor.DriftKind, title, r, day.AddDate(0, 0, 7*week)); err != nil {
			log.Fatal(err)
		}
	}
	entries, err := monitor.List(ctx, st, monitor.DriftKind, 0)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		var r drift.Report
		if err := json.Unmarshal(e.Report, &r); err != nil {
			log.Fatal(err)
		}
		fmt.Println(e.Created.Format(time.DateOnly), e.Title, "dataset drift:", r.DatasetDrift)
	}
	// Output:
	// 2024-05-08 week 2 dataset drift: true
	// 2024-05-01 week 1 dataset drift: false
}
