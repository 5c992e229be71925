package linear_test

import (
	"context"
	"fmt"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/linear"
)

func ExampleRegression() {
	// y = 1 + 2·x exactly.
	x := &model.Matrix{Rows: 4, Cols: 1, Data: []float64{0, 1, 2, 3}}
	d := &model.Dataset{X: x, Y: []float64{1, 3, 5, 7}, Task: model.Regression}
	m, err := linear.Regression{}.Train(context.Background(), d, model.FitOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	pred := make([]float64, 1)
	_ = m.Predict(pred, &model.Matrix{Rows: 1, Cols: 1, Data: []float64{10}})
	fmt.Printf("coef %.3f intercept %.3f f(10) = %.3f\n", m.Coef()[0], m.Intercept()[0], pred[0])
	// Output: coef 2.000 intercept 1.000 f(10) = 21.000
}

func ExampleLogistic() {
	x := &model.Matrix{Rows: 6, Cols: 1, Data: []float64{-3, -2, -1, 1, 2, 3}}
	d := &model.Dataset{X: x, Y: []float64{0, 0, 1, 0, 1, 1}, Task: model.Binary, NumClasses: 2}
	m, err := linear.Logistic{C: 1}.Train(context.Background(), d, model.FitOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	p := make([]float64, 2)
	_ = m.Predict(p, &model.Matrix{Rows: 2, Cols: 1, Data: []float64{-2, 2}})
	// scikit-learn 1.2.1 (newton-cg, tol 1e-10) gives 0.2395 and 0.7605.
	fmt.Printf("P(y=1 | x=-2) = %.2f, P(y=1 | x=2) = %.2f\n", p[0], p[1])
	// Output: P(y=1 | x=-2) = 0.24, P(y=1 | x=2) = 0.76
}
