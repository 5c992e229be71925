package report_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/report"
)

// Write renders whatever a run produced; sections without data say "not
// available". The file names it returns are relative to the directory.
func ExampleWrite() {
	dir, err := os.MkdirTemp("", "tabforge-report")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	y := []float64{3, 5, 7, 9, 11, 13}
	pred := []float64{3.2, 4.7, 7.1, 9.4, 10.8, 12.6}
	test, err := eval.Regression(y, pred)
	if err != nil {
		log.Fatal(err)
	}
	d := &report.Data{
		RunID:             "example",
		Task:              "regression",
		Target:            "price",
		Metric:            "rmse",
		Best:              "ridge",
		Leaderboard:       []report.Entry{{Model: "ridge", Test: test}},
		Test:              report.Predictions{Y: y, Pred: pred},
		FeatureImportance: []report.Importance{{Feature: "area", Value: 0.8}, {Feature: "rooms", Value: 0.2}},
	}
	files, err := report.Write(context.Background(), dir, d)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(files.HTML, files.JSON)
	for _, png := range files.PNG {
		fmt.Println(png)
	}
	// Output:
	// report.html report.json
	// leaderboard.png
	// predicted_vs_actual.png
	// residuals.png
	// residual_histogram.png
	// feature_importance.png
}
