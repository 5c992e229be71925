package tune

import (
	"context"
	"testing"
)

// TestTPEBeatsRandom compares the mean best value over 10 seeds with the
// same trial budget. The margins are a fraction of the gap between random
// search and the known optimum, so the test fails if TPE is no better than
// random.
func TestTPEBeatsRandom(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: 10 seeds × 3 samplers × 2 functions")
	}
	cases := []struct {
		name   string
		obj    func(ctx context.Context, t *Trial) (float64, error)
		trials int
		optim  float64
	}{
		{"branin", branin, 50, 0.397887},
		{"hartmann6", hartmann6, 100, -3.32237},
	}
	for _, c := range cases {
		rnd := meanBest(t, RandomSampler{}, 10, c.trials, c.obj)
		uni := meanBest(t, TPESampler{}, 10, c.trials, c.obj)
		multi := meanBest(t, TPESampler{Multivariate: true}, 10, c.trials, c.obj)
		t.Logf("%s, %d trials, mean best of 10 seeds: random %.4f, TPE %.4f, multivariate TPE %.4f (optimum %.4f)",
			c.name, c.trials, rnd, uni, multi, c.optim)
		// TPE must close at least 30% of random search's gap to the optimum.
		want := rnd - 0.3*(rnd-c.optim)
		if uni > want {
			t.Errorf("%s: TPE mean best %.4f; want <= %.4f (random %.4f)", c.name, uni, want, rnd)
		}
		if multi > want {
			t.Errorf("%s: multivariate TPE mean best %.4f; want <= %.4f (random %.4f)", c.name, multi, want, rnd)
		}
	}
}
