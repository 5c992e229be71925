package eval_test

import (
	"context"
	"fmt"

	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/split"
)

func ExampleRegression() {
	y := []float64{100, 200, 300, 400}
	pred := []float64{110, 180, 390, 400}
	m, err := eval.Regression(y, pred)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("rmse %.2f mae %.1f within20 %.0f%%\n", m["rmse"], m["mae"], m["within20"])
	// Errors 10, 20, 90, 0: rmse sqrt(8600/4), mae 120/4; 390 misses 300 by more than 20%.
	// Output: rmse 46.37 mae 30.0 within20 75%
}

func ExampleROCAUC() {
	// Tied scores count one half: scikit-learn's roc_auc_score gives the same.
	y := []int{0, 0, 1, 1}
	score := []float64{0.1, 0.4, 0.4, 0.8}
	auc, err := eval.ROCAUC(y, score, 2, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(auc)
	// Output: 0.875
}

func ExampleCrossValidate() {
	y := []float64{1, 2, 3, 4, 5, 6}
	folds, err := split.KFold(len(y), 3, false, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	// The "model" predicts the training mean.
	res, err := eval.CrossValidate(context.Background(), folds, 2, func(ctx context.Context, i int, f split.Fold) (eval.Metrics, error) {
		var mean float64
		for _, r := range f.Train {
			mean += y[r]
		}
		mean /= float64(len(f.Train))
		pred := make([]float64, len(f.Test))
		for j := range pred {
			pred[j] = mean
		}
		return eval.Regression(split.Take(y, f.Test), pred)
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	mean, std := eval.Summarize(res)
	fmt.Printf("mae %.2f ± %.2f\n", mean["mae"], std["mae"])
	// Fold MAEs 3, 0.5, 3 (test rows {1,2}, {3,4}, {5,6} against train means 4.5, 3.5, 2.5).
	// Output: mae 2.17 ± 1.44
}
