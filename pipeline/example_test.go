package pipeline_test

import (
	"context"
	"fmt"
	"os"

	"github.com/tabforge/tabforge/config"
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
	// Output: regression ridge 2261 669 true
}
