package linear

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"
)

// TestLBFGSStopsOnNaN checks that an objective which turns NaN away from
// the start ends the search with errNaN. gonum's line search never leaves
// a NaN region by itself: before the fix it evaluated forever, and only
// the guard context (not a timing assertion; any finite wait will do) ended
// it, with the context's error.
func TestLBFGSStopsOnNaN(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// f(x) = (x − 10)² near the start, NaN once x leaves [−1, 1]: the first
	// step, along −∇f = +20, leaves the interval.
	fg := func(x, g []float64) float64 {
		if math.Abs(x[0]) > 1 {
			g[0] = math.NaN()
			return math.NaN()
		}
		g[0] = 2 * (x[0] - 10)
		return (x[0] - 10) * (x[0] - 10)
	}
	x := []float64{0}
	_, err := lbfgs(ctx, fg, x, 1e-8, 1000)
	if !errors.Is(err, errNaN) {
		t.Fatalf("lbfgs on an objective that turns NaN: err = %v; want errNaN", err)
	}
}
