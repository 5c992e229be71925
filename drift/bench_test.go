package drift_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tabforge/tabforge/drift"
	"github.com/tabforge/tabforge/synth"
)

// BenchmarkCompare compares two synthetic sales tables, the second
// shifted half way through (17 columns: 4 numeric, 9 categorical, 4
// datetime that are skipped).
func BenchmarkCompare(b *testing.B) {
	for _, rows := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprint("rows=", rows), func(b *testing.B) {
			ctx := context.Background()
			ref, err := synth.Sales(ctx, synth.SalesParams{Rows: rows, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			cur, err := synth.Sales(ctx, synth.SalesParams{Rows: rows, Seed: 2, DriftAt: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := drift.Compare(ctx, ref, cur, drift.Options{Target: "order_quantity"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
