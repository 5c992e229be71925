package pipeline_test

import (
	"context"
	"fmt"
	"os"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/pipeline"
)

// ExampleTrain trains ridge regression on the Ames sales with a temporal
// split and prints where the best model went and whether it passed the
// quality gates.
func ExampleTrain() {
	dir, _ := os.MkdirTemp("", "tabforge-example")
	defer os.RemoveAll(dir)
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.TimeColumn = "../testdata/ames.csv", "Sale_Price", "Year_Sold,Mo_Sold"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"ridge"}, 3, dir
	res, err := pipeline.Train(context.Background(), cfg, pipeline.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Task, res.Best, res.TrainRows, res.TestRows, res.Deployable)
	// Output: regression ridge 2371 559 true
}

// ExampleLoadPredictor loads a saved model (a forest on the credit data)
// and predicts the first rows of a file, read with the kinds the model
// expects. A nil registry decodes the model with Families().
func ExampleLoadPredictor() {
	p, err := pipeline.LoadPredictor("testdata/forest_v1.tfm", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	x, err := frame.ReadFile("../testdata/credit_data.csv", frame.ReadOptions{Schema: p.ReadSchema()})
	if err != nil {
		fmt.Println(err)
		return
	}
	pred, err := p.Predict(x.Take([]int{0, 1, 2}))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Target.Name, p.Target.Classes, p.Family())
	for i, label := range pred.Labels {
		fmt.Printf("%s %.2f\n", label, pred.Probs[2*i:2*i+2])
	}
	// Output:
	// Status [good bad] forest
	// good [0.90 0.10]
	// good [1.00 0.00]
	// bad [0.20 0.80]
}

// ExampleExplain explains one row of a saved forest with exact TreeSHAP:
// the base value plus the row's SHAP values is the model's output, here
// the probability of the second class, "bad".
func ExampleExplain() {
	p, err := pipeline.LoadPredictor("testdata/forest_v1.tfm", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	x, err := frame.ReadFile("../testdata/credit_data.csv", frame.ReadOptions{Schema: p.ReadSchema()})
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := pipeline.Explain(context.Background(), p, x, pipeline.ExplainOptions{Rows: []int{0}})
	if err != nil {
		fmt.Println(err)
		return
	}
	pred, err := p.Predict(x.Take([]int{0}))
	if err != nil {
		fmt.Println(err)
		return
	}
	sum := v.BaseValue[0]
	for _, phi := range v.Values[:v.Features] { // row 0, its one output
		sum += phi
	}
	fmt.Println(v.Method, v.Output, v.Exact, v.Rows, v.Outputs, v.OutputNames)
	fmt.Printf("base %.3f + SHAP = %.3f, predicted %.3f\n", v.BaseValue[0], sum, pred.Values[0])
	// Output:
	// tree prediction true 1 1 [bad]
	// base 0.284 + SHAP = 0.100, predicted 0.100
}

// ExamplePredictor_PredictionFrame lays predictions out as `tabforge
// predict` writes them, ready for frame.WriteFile.
func ExamplePredictor_PredictionFrame() {
	p, err := pipeline.LoadPredictor("testdata/forest_v1.tfm", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	x, err := frame.ReadFile("../testdata/credit_data.csv", frame.ReadOptions{Schema: p.ReadSchema()})
	if err != nil {
		fmt.Println(err)
		return
	}
	pred, err := p.Predict(x.Take([]int{0, 2}))
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := p.PredictionFrame(pred)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out.Names())
	fmt.Println(out.NumRows(), "rows")
	// Output:
	// [prediction prob_good prob_bad]
	// 2 rows
}
