package explain_test

import (
	"context"
	"fmt"

	"github.com/tabforge/tabforge/explain"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/tree"
)

// ExampleExplain fits a one-split tree (y = 10 when x0 > 0.5, else 0; x1
// is ignored) and explains two rows: all the credit goes to x0, and the
// base value is the training mean.
func ExampleExplain() {
	x := &model.Matrix{Rows: 4, Cols: 2, Data: []float64{0.1, 7, 0.2, 3, 0.8, 5, 0.9, 1}}
	d := &model.Dataset{X: x, Y: []float64{0, 0, 10, 10}, Task: model.Regression, FeatureNames: []string{"x0", "x1"}}
	m, err := tree.Train(context.Background(), tree.Params{MaxDepth: 1}, d, model.FitOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	rows := &model.Matrix{Rows: 2, Cols: 2, Data: []float64{0.1, 7, 0.9, 1}}
	v, err := explain.Explain(context.Background(), m, rows, explain.Options{FeatureNames: d.FeatureNames})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(v.Method, v.Output, v.FeatureNames, v.BaseValue)
	for r := range v.Rows {
		fmt.Println(v.Row(r, 0), "sum", v.Sum(r, 0))
	}
	// Output:
	// tree prediction [x0 x1] [5]
	// [-5 0] sum 0
	// [5 0] sum 10
}
