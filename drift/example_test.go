package drift_test

import (
	"context"
	"fmt"

	"github.com/tabforge/tabforge/drift"
	"github.com/tabforge/tabforge/frame"
)

func ExampleCompare() {
	ages := func(from int) []float64 {
		v := make([]float64, 200)
		for i := range v {
			v[i] = float64(from + i%50)
		}
		return v
	}
	plans := func(premium int) []string {
		v := make([]string, 200)
		for i := range v {
			v[i] = "basic"
			if i%10 < premium {
				v[i] = "premium"
			}
		}
		return v
	}
	ref := frame.MustNew(frame.NewNumeric("age", ages(20)), frame.NewCategoricalFromStrings("plan", plans(3)))
	cur := frame.MustNew(frame.NewNumeric("age", ages(35)), frame.NewCategoricalFromStrings("plan", plans(3)))
	r, err := drift.Compare(context.Background(), ref, cur, drift.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range r.Columns {
		fmt.Printf("%s: %s p=%.2g drifted=%v PSI %s\n", c.Name, c.Method, *c.PValue, c.Drifted, c.PSIBand)
	}
	fmt.Printf("dataset drift: %v (share %.2f)\n", r.DatasetDrift, r.DriftedShare)
	// Output:
	// age: ks p=1.9e-08 drifted=true PSI significant
	// plan: chi_squared p=1 drifted=false PSI stable
	// dataset drift: true (share 0.50)
}
