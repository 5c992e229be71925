package gbdt_test

import (
	"bytes"
	"context"
	"fmt"
	"math"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/gbdt"
)

func ExampleTrain() {
	// y = 3·x0 on a grid; x1 is missing in every fifth row.
	x := model.NewMatrix(200, 2)
	y := make([]float64, 200)
	for r := range 200 {
		x.Data[2*r] = float64(r % 100)
		x.Data[2*r+1] = float64(r % 3)
		if r%5 == 0 {
			x.Data[2*r+1] = math.NaN()
		}
		y[r] = 3 * float64(r%100)
	}
	d := &model.Dataset{X: x, Y: y, Task: model.Regression}
	m, err := gbdt.Train(context.Background(), gbdt.Params{NEstimators: 50}, d, nil, model.FitOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	pred := make([]float64, 2)
	if err := m.Predict(pred, &model.Matrix{Rows: 2, Cols: 2, Data: []float64{10, 0, 90, math.NaN()}}); err != nil {
		fmt.Println(err)
		return
	}
	// Leaves are shrunk by λ = 1 and each holds few rows, so the fit is
	// close to, not exactly, 3·x0.
	fmt.Printf("trees: %d\n", m.NumTrees())
	fmt.Printf("f(10) ≈ %.0f, f(90) ≈ %.0f\n", pred[0], pred[1])

	// The same model in XGBoost's JSON format, for xgboost.Booster(model_file=...).
	var buf bytes.Buffer
	if err := m.WriteXGBoostJSON(&buf); err != nil {
		fmt.Println(err)
		return
	}
	back, err := gbdt.ReadXGBoostJSON(&buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("imported: %d trees, objective %s\n", back.NumTrees(), back.Objective())
	// Output:
	// trees: 50
	// f(10) ≈ 31, f(90) ≈ 270
	// imported: 50 trees, objective squared_error
}
