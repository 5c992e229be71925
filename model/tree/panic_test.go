package tree

import (
	"context"
	"testing"

	"github.com/tabforge/tabforge/internal/par"
	"github.com/tabforge/tabforge/model"
)

// TestCodeWorkerPanicReachesCaller: a panic while sorting a feature on a
// worker goroutine (here a matrix shorter than its shape, a bug upstream)
// is re-raised on the goroutine that prepared the data, where Train's
// recover records the run as failed. It used to end the process.
func TestCodeWorkerPanicReachesCaller(t *testing.T) {
	x := &model.Matrix{Rows: 50, Cols: 4, Data: make([]float64, 50*4-10)}
	pr := &Prepared{rows: x.Rows, cols: x.Cols}
	var got any
	func() {
		defer func() { got = recover() }()
		pr.code(context.Background(), x, 2)
	}()
	if _, ok := got.(*par.Panic); !ok {
		t.Fatalf("recovered %#v; want the worker's panic as a *par.Panic", got)
	}
}
