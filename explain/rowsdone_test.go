package explain

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/progress"
)

// explainers runs KernelSHAP and LIME, the slow explainers, on the
// same rows with the given workers and progress.
var explainers = []struct {
	method Method
	run    func(ctx context.Context, f Func, x, bg *model.Matrix, workers int, pf progress.Func) error
}{
	{MethodKernel, func(ctx context.Context, f Func, x, bg *model.Matrix, workers int, pf progress.Func) error {
		_, err := KernelSHAP(ctx, f, 1, x, &Background{X: bg}, KernelOptions{Samples: 100, Seed: 1, Workers: workers, Progress: pf}, nil)
		return err
	}},
	{MethodLIME, func(ctx context.Context, f Func, x, bg *model.Matrix, workers int, pf progress.Func) error {
		_, err := LIME(ctx, f, 1, x, bg, LIMEOptions{Samples: 200, Seed: 1, Workers: workers, Progress: pf}, nil)
		return err
	}},
}

// TestExplainProgress checks that KernelSHAP and LIME report every row:
// a Step 0 event with the total first, then Steps 1, 2, ... up to the
// rows explained, in order although three workers finish them.
func TestExplainProgress(t *testing.T) {
	d := synth(model.Regression, 200, 6, 71, false)
	x, bg := head(d.X, 23), head(d.X, 10)
	f := notTree{}.Predict
	for _, ex := range explainers {
		t.Run(string(ex.method), func(t *testing.T) {
			var events []progress.Event
			err := ex.run(context.Background(), f, x, bg, 3, func(e progress.Event) { events = append(events, e) })
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != x.Rows+1 {
				t.Fatalf("%d events for %d rows; want %d", len(events), x.Rows, x.Rows+1)
			}
			for i, e := range events {
				want := progress.Event{Stage: progress.ExplainRow, Name: string(ex.method), Step: i, Total: x.Rows}
				if e.Stage != want.Stage || e.Name != want.Name || e.Step != want.Step || e.Total != want.Total {
					t.Fatalf("event %d = %+v; want %+v", i, e, want)
				}
			}
		})
	}
}

// TestExplainCancel cancels the context from inside the prediction
// function, in the first row: the explainer must return the context's
// error without predicting again or finishing any row.
func TestExplainCancel(t *testing.T) {
	d := synth(model.Regression, 200, 6, 72, false)
	x, bg := head(d.X, 40), head(d.X, 10)
	for _, ex := range explainers {
		t.Run(string(ex.method), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var mu sync.Mutex
			calls, after := 0, 0
			f := func(dst []float64, m *model.Matrix) error {
				mu.Lock()
				defer mu.Unlock()
				calls++
				if ctx.Err() != nil {
					after++
				}
				// KernelSHAP predicts the background and the rows first;
				// the third call is row 0's coalitions, LIME's first row 0's.
				if (ex.method == MethodKernel && calls == 3) || (ex.method == MethodLIME && calls == 1) {
					cancel()
				}
				return notTree{}.Predict(dst, m)
			}
			rows := 0
			err := ex.run(ctx, f, x, bg, 1, func(e progress.Event) { rows = e.Step })
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v; want context.Canceled", err)
			}
			if after > 0 || rows > 1 {
				t.Errorf("after the cancel: %d predictions, %d of %d rows done; want none but the row in flight", after, rows, x.Rows)
			}
		})
	}
}
