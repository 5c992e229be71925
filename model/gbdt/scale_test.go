package gbdt

import (
	"fmt"
	"math"
	"testing"

	"github.com/tabforge/tabforge/model"
)

// TestTinyTargetScale checks that a regression target in tiny units
// trains as its rescaled copy does. Scaling by a power of two is exact in
// floating point (float32 gradients included), so with the split
// threshold scaling with the target's variance, the model of y·2⁻ᵏ must
// predict exactly 2⁻ᵏ times the model of y. XGBoost's absolute threshold
// gave targets in units of 1e-4 or smaller no split at all: the mean.
func TestTinyTargetScale(t *testing.T) {
	d := synthTask(model.Regression, 600, 3)
	// Bring the target's variance below 1, where the threshold is
	// proportional to it, by an exact power of two.
	for weightedVariance(d.Y, nil) >= 1 {
		for i := range d.Y {
			d.Y[i] /= 2
		}
	}
	cases := []struct {
		obj   Objective
		slope float64
	}{{SquaredError, 0}, {Huber, 0.5}}
	for _, c := range cases {
		p := Params{Objective: c.obj, HuberSlope: c.slope, NEstimators: 40, MaxDepth: 4, Seed: 1}
		want := predict(t, fit(t, p, d, 1), d.X)
		for _, k := range []int{10, 20, 40} {
			t.Run(fmt.Sprintf("%s/2^-%d", c.obj, k), func(t *testing.T) {
				s := math.Ldexp(1, -k)
				scaled := *d
				scaled.Y = make([]float64, len(d.Y))
				for i, v := range d.Y {
					scaled.Y[i] = v * s
				}
				q := p
				q.HuberSlope = c.slope * s
				got := predict(t, fit(t, q, &scaled, 1), d.X)
				for i := range got {
					if got[i] != want[i]*s {
						t.Fatalf("row %d: predicts %g, want %g (2^-%d × %g)", i, got[i], want[i]*s, k, want[i])
					}
				}
			})
		}
	}
}
