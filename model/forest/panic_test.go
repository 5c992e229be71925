package forest

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/tabforge/tabforge/internal/par"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/tree"
)

// TestGrowWorkerPanicIsError: a panic while growing a tree on a worker
// goroutine (here a bookkeeping slice too short, a bug) is growAll's
// error, not the end of the process, which it used to be.
func TestGrowWorkerPanicIsError(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	n, p := 60, 3
	d := &model.Dataset{X: model.NewMatrix(n, p), Y: make([]float64, n), Task: model.Regression}
	for i := range d.X.Data {
		d.X.Data[i] = rng.NormFloat64()
	}
	for i := range d.Y {
		d.Y[i] = d.X.Data[i*p] + rng.NormFloat64()
	}
	pr, err := tree.Prepare(ctx, d, 2)
	if err != nil {
		t.Fatal(err)
	}
	var params Params
	trees := make([]*tree.Tree, 4)
	inbag := make([][]uint64, 1) // one short of the trees: tree 1 panics
	err = growAll(ctx, pr, params.treeParams(model.Regression), true, n, model.FitOptions{Workers: 2}, trees, inbag)
	var pe *par.Panic
	if !errors.As(err, &pe) {
		t.Fatalf("growAll = %v; want the worker's panic as a *par.Panic error", err)
	}
}
