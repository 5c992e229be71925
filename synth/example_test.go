package synth_test

import (
	"context"
	"fmt"
	"log"
	"slices"
	"time"

	"github.com/tabforge/tabforge/synth"
)

// Sales gives a seeded order table: the same parameters give the same rows.
func ExampleSales() {
	ctx := context.Background()
	p := synth.SalesParams{Rows: 500, Seed: 1, Months: 6}
	f, err := synth.Sales(ctx, p)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(f.NumRows(), "rows,", f.NumCols(), "columns")
	for _, c := range f.Schema() {
		fmt.Printf("%s (%s)\n", c.Name, c.Kind)
	}
	again, _ := synth.Sales(ctx, p)
	fmt.Println("same table again:", again.Hash() == f.Hash())

	// The order dates stay within the months asked for.
	dates, _ := f.Lookup("order_date")
	first := time.Unix(int64(slices.Min(dates.Num)), 0).UTC()
	last := time.Unix(int64(slices.Max(dates.Num)), 0).UTC()
	fmt.Println("orders from", first.Format("2006-01"), "to", last.Format("2006-01"))
	// Output:
	// 500 rows, 17 columns
	// order_number (categorical)
	// sales_channel (categorical)
	// warehouse (categorical)
	// procured_date (datetime)
	// order_date (datetime)
	// ship_date (datetime)
	// delivery_date (datetime)
	// sales_team (categorical)
	// customer (categorical)
	// store (categorical)
	// region (categorical)
	// state (categorical)
	// product (categorical)
	// discount (numeric)
	// unit_price (numeric)
	// unit_cost (numeric)
	// order_quantity (numeric)
	// same table again: true
	// orders from 2022-01 to 2022-06
}
