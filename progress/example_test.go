package progress_test

import (
	"context"
	"fmt"
	"log"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/gbdt"
	"github.com/tabforge/tabforge/progress"
)

// A Func is how a caller watches the library work: pass one in an options
// struct and it receives every event, synchronously and in order.
func ExampleFunc() {
	var last progress.Event
	events := 0
	watch := progress.Func(func(e progress.Event) {
		events++
		last = e
	})
	watch.Emit(progress.Event{Stage: progress.CVFold, Name: "ridge", Step: 1, Total: 2})
	watch.Emit(progress.Event{Stage: progress.CVFold, Name: "ridge", Step: 2, Total: 2})
	fmt.Printf("%d events, last %s %s %d/%d\n", events, last.Stage, last.Name, last.Step, last.Total)

	// A nil Func is valid and ignores events, so libraries call Emit freely.
	var none progress.Func
	none.Emit(last)
	// Output:
	// 2 events, last cv_fold ridge 2/2
}

// Learners take a Func in model.FitOptions; nil means no events. A GBDT
// reports each boosting round.
func ExampleFunc_fitOptions() {
	x := model.NewMatrix(8, 1)
	y := make([]float64, 8)
	for i := range 8 {
		x.Data[i], y[i] = float64(i), float64(i%3)
	}
	d := &model.Dataset{X: x, Y: y, Task: model.Regression}
	opts := model.FitOptions{Progress: func(e progress.Event) {
		fmt.Printf("%s %d/%d\n", e.Stage, e.Step, e.Total)
	}}
	if _, err := (gbdt.Params{NEstimators: 3}).Fit(context.Background(), d, opts); err != nil {
		log.Fatal(err)
	}
	// Output:
	// gbdt_round 1/3
	// gbdt_round 2/3
	// gbdt_round 3/3
}
