package tune

import (
	"context"
	"fmt"
	"math"
	"testing"
)

// branin is the Branin–Hoo function on [−5, 10] × [0, 15]; its global
// minimum is 0.397887 (Dixon and Szegő, 1978; the constants are the
// standard ones listed by Surjanovic and Bingham's library of test
// functions).
func branin(_ context.Context, t *Trial) (float64, error) {
	x1 := t.SuggestFloat("x1", -5, 10, false)
	x2 := t.SuggestFloat("x2", 0, 15, false)
	const (
		a = 1.0
		r = 6.0
		s = 10.0
	)
	b := 5.1 / (4 * math.Pi * math.Pi)
	c := 5 / math.Pi
	tt := 1 / (8 * math.Pi)
	u := x2 - b*x1*x1 + c*x1 - r
	return a*u*u + s*(1-tt)*math.Cos(x1) + s, nil
}

// hartmann6 is the six-dimensional Hartmann function on [0, 1]⁶; its
// global minimum is −3.32237 (constants from Surjanovic and Bingham).
func hartmann6(_ context.Context, t *Trial) (float64, error) {
	alpha := [4]float64{1.0, 1.2, 3.0, 3.2}
	A := [4][6]float64{
		{10, 3, 17, 3.5, 1.7, 8},
		{0.05, 10, 17, 0.1, 8, 14},
		{3, 3.5, 1.7, 10, 17, 8},
		{17, 8, 0.05, 10, 0.1, 14},
	}
	P := [4][6]float64{
		{1312, 1696, 5569, 124, 8283, 5886},
		{2329, 4135, 8307, 3736, 1004, 9991},
		{2348, 1451, 3522, 2883, 3047, 6650},
		{4047, 8828, 8732, 5743, 1091, 381},
	}
	var x [6]float64
	for j := range x {
		x[j] = t.SuggestFloat(fmt.Sprintf("x%d", j), 0, 1, false)
	}
	f := 0.0
	for i := range 4 {
		s := 0.0
		for j := range 6 {
			d := x[j] - P[i][j]*1e-4
			s += A[i][j] * d * d
		}
		f -= alpha[i] * math.Exp(-s)
	}
	return f, nil
}

// bestOfStudy runs a fresh in-memory study and returns its best value.
func bestOfStudy(tb testing.TB, sampler Sampler, seed uint64, trials int, obj func(context.Context, *Trial) (float64, error)) float64 {
	tb.Helper()
	ctx := context.Background()
	s, err := NewStudy(ctx, "bench", Config{Sampler: sampler, Seed: seed})
	if err != nil {
		tb.Fatal(err)
	}
	res, err := s.Optimize(ctx, obj, Budget{MaxTrials: trials})
	if err != nil {
		tb.Fatal(err)
	}
	if !res.HasBest || res.Total != trials {
		tb.Fatalf("Optimize: %d trials, best %v; want %d trials and a best", res.Total, res.HasBest, trials)
	}
	return res.Best.Value
}

// meanBest returns the mean over seeds 1..n of the best value found.
func meanBest(tb testing.TB, sampler Sampler, n, trials int, obj func(context.Context, *Trial) (float64, error)) float64 {
	sum := 0.0
	for seed := 1; seed <= n; seed++ {
		sum += bestOfStudy(tb, sampler, uint64(seed), trials, obj)
	}
	return sum / float64(n)
}
