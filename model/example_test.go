package model_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/linear"
)

// A Dataset pairs a design Matrix with its target; any Learner fits it and
// the fitted Model predicts into a caller-owned slice.
func ExampleDataset() {
	// y = 1 + 2·x₀ − x₁ on four rows.
	x := model.NewMatrix(4, 2)
	copy(x.Data, []float64{
		0, 0,
		1, 0,
		0, 1,
		2, 3,
	})
	d := &model.Dataset{X: x, Y: []float64{1, 3, 0, 2}, Task: model.Regression, FeatureNames: []string{"a", "b"}}
	if err := d.Validate(); err != nil {
		log.Fatal(err)
	}
	var learner model.Learner = linear.Regression{}
	m, err := learner.Fit(context.Background(), d, model.FitOptions{})
	if err != nil {
		log.Fatal(err)
	}

	test := model.NewMatrix(1, 2)
	copy(test.Data, []float64{10, 5})
	pred := make([]float64, test.Rows*m.NumOutputs())
	if err := m.Predict(pred, test); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s predicts %.2f\n", m.Family(), pred[0])
	// Output:
	// ols predicts 16.00
}

// A Registry builds learners from a family name and JSON parameters, as a
// config file names them, and decodes the models they save.
func ExampleRegistry() {
	var reg model.Registry
	for _, f := range linear.Families() {
		reg.Register(f)
	}
	fmt.Println(reg.Names())

	fam, err := reg.Lookup("ridge")
	if err != nil {
		log.Fatal(err)
	}
	learner, err := fam.New(model.Regression, 0, json.RawMessage(`{"alpha": 0.5}`))
	if err != nil {
		log.Fatal(err)
	}
	x := model.NewMatrix(3, 1)
	copy(x.Data, []float64{1, 2, 3})
	m, err := learner.Fit(context.Background(), &model.Dataset{X: x, Y: []float64{2, 4, 6}, Task: model.Regression}, model.FitOptions{})
	if err != nil {
		log.Fatal(err)
	}
	saved, err := m.MarshalBinary()
	if err != nil {
		log.Fatal(err)
	}
	back, err := fam.Decode(saved)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(back.Family(), back.Params()["alpha"])

	_, err = reg.Lookup("nope")
	fmt.Println(err)
	// Output:
	// [logistic ols ridge]
	// ridge 0.5
	// model: unknown model family "nope" (known: logistic, ols, ridge)
}
