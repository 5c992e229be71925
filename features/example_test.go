package features_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
)

func ExampleFitDesign() {
	train := frame.MustNew(
		frame.NewNumeric("income", []float64{100, math.NaN(), 300}),
		frame.NewCategoricalFromStrings("home", []string{"rent", "owner", ""}),
	)
	// What a linear model wants: one-hot categories, standardised numbers.
	spec := features.DesignSpecFor(model.Input{OneHot: true, Scale: true})
	d, err := features.FitDesign(context.Background(), train, spec)
	if err != nil {
		fmt.Println(err)
		return
	}
	test := frame.MustNew(
		frame.NewCategoricalFromStrings("home", []string{"owner", "castle"}), // castle: unseen
		frame.NewNumeric("income", []float64{math.NaN(), 400}),
	)
	m, err := d.Matrix(test)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.FeatureNames())
	for i := range m.Rows {
		fmt.Printf("%.4f\n", m.Row(i))
	}

	// The fitted design is saved as JSON and decodes to the same mapping.
	data, _ := json.Marshal(d)
	var back features.Design
	if err := json.Unmarshal(data, &back); err != nil {
		fmt.Println(err)
		return
	}
	again, _ := back.Matrix(test)
	fmt.Println(again.Data[4] == m.Data[4])
	// Output:
	// [income home___missing__ home_owner home_rent]
	// [0.0000 0.0000 1.0000 0.0000]
	// [2.4495 0.0000 0.0000 0.0000]
	// true
}
