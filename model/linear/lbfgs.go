package linear

import (
	"context"
	"errors"
	"math"
	"slices"

	"gonum.org/v1/gonum/optimize"
)

// lbfgsMemory is the number of curvature pairs L-BFGS keeps, as in
// scikit-learn's lbfgs solver (scipy's default m = 10).
const lbfgsMemory = 10

// lbfgs minimises a smooth function with gonum's limited-memory BFGS and
// a Moré–Thuente line search (strong Wolfe conditions). fg returns f(x)
// and writes ∇f(x) into g. x is updated in place. The search stops when
// ‖∇f‖∞ < tol, after maxIter iterations, or when the line search can no
// longer decrease f (the optimum to working precision), and returns the
// number of iterations taken. It checks ctx after every evaluation and
// returns ctx's error once it is done. A NaN value of f stops the search
// with errNaN: gonum's line search cannot leave a NaN region and would
// otherwise evaluate forever without completing an iteration.
//
// gonum asks for the value and the gradient at a point separately; one
// cached fg call answers both, so each point costs one pass over the data.
func lbfgs(ctx context.Context, fg func(x, g []float64) float64, x []float64, tol float64, maxIter int) (int, error) {
	n := len(x)
	at, grad := make([]float64, n), make([]float64, n)
	f, cached := 0.0, false
	var nanErr error
	eval := func(v []float64) {
		if cached && slices.Equal(v, at) {
			return
		}
		f = fg(v, grad)
		copy(at, v)
		cached = true
		if math.IsNaN(f) {
			nanErr = errNaN
		}
	}
	p := optimize.Problem{
		Func: func(v []float64) float64 { eval(v); return f },
		Grad: func(g, v []float64) { eval(v); copy(g, grad) },
	}
	settings := &optimize.Settings{
		GradientThreshold: tol,
		MajorIterations:   maxIter,
		Converger:         optimize.NeverTerminate{}, // stop on the gradient only
		Recorder: stopOn(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return nanErr
		}),
	}
	method := &optimize.LBFGS{Store: lbfgsMemory, Linesearcher: &optimize.MoreThuente{}, GradStopThreshold: math.NaN()}
	res, err := optimize.Minimize(p, x, settings, method)
	if cerr := ctx.Err(); cerr != nil {
		return 0, cerr
	}
	if res == nil {
		return 0, err
	}
	copy(x, res.X)
	if err != nil && !errors.Is(err, optimize.ErrLinesearcherFailure) && !errors.Is(err, optimize.ErrNoProgress) {
		return res.Stats.MajorIterations, err
	}
	return res.Stats.MajorIterations, nil
}

// errNaN reports an objective that evaluated to NaN.
var errNaN = errors.New("the objective is NaN (its values overflow float64)")

// stopOn is an optimize.Recorder that stops optimize.Minimize when the
// function returns an error: Minimize calls Record after every evaluation.
type stopOn func() error

var _ optimize.Recorder = stopOn(nil)

func (f stopOn) Init() error { return f() }

func (f stopOn) Record(*optimize.Location, optimize.Operation, *optimize.Stats) error { return f() }
