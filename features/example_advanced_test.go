package features_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/frame"
)

func ExampleTemporal() {
	month := func(y, m int) float64 { return float64(time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC).Unix()) }
	train := frame.MustNew(
		frame.NewCategoricalFromStrings("city", []string{"Austin", "Austin", "Austin", "Waco", "Waco"}),
		frame.NewDatetime("date", []float64{month(2020, 1), month(2020, 2), month(2020, 3), month(2020, 1), month(2020, 2)}),
		frame.NewNumeric("median", []float64{300, 310, 320, 150, 155}),
	)
	tr := features.Temporal{TimeColumn: "date", Target: "median", SegmentColumn: "city", Lags: []int{1}, Windows: []int{}}
	f, err := tr.Fit(context.Background(), train)
	if err != nil {
		fmt.Println(err)
		return
	}
	// New rows carry no target: April is one period after the training
	// range, June three; Dallas was never seen.
	test := frame.MustNew(
		frame.NewCategoricalFromStrings("city", []string{"Austin", "Austin", "Dallas"}),
		frame.NewDatetime("date", []float64{month(2020, 4), month(2020, 6), month(2020, 4)}),
	)
	out, err := f.Transform(test)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range []string{"median_lag1", "median_last", "periods_since_last"} {
		c, _ := out.Lookup(name)
		fmt.Println(name, c.Num)
	}
	// Output:
	// median_lag1 [320 NaN NaN]
	// median_last [320 320 NaN]
	// periods_since_last [1 3 NaN]
}
