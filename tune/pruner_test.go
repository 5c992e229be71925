package tune

import (
	"context"
	"math"
	"testing"
)

// steps returns a trial with the same value reported at steps 0..n-1.
func steps(number int, state State, v float64, n int) FrozenTrial {
	t := FrozenTrial{Number: number, State: state, Value: v, Intermediate: map[int]float64{}, RetryOf: -1}
	for s := range n {
		t.Intermediate[s] = v
	}
	return t
}

func TestMedianPruner(t *testing.T) {
	h := &History{Direction: Minimize}
	for i := range 5 {
		h.Trials = append(h.Trials, steps(i, Complete, float64(i+1), 3)) // median 3
	}
	p := MedianPruner{}
	cases := []struct {
		name  string
		h     *History
		trial FrozenTrial
		want  bool
	}{
		{"worse than median", h, steps(9, Running, 3.5, 2), true},
		{"better than median", h, steps(9, Running, 2.5, 2), false},
		{"too few complete trials", &History{Trials: h.Trials[:4]}, steps(9, Running, 10, 2), false},
		{"step nobody reached", h, FrozenTrial{Number: 9, Intermediate: map[int]float64{7: 10}}, false},
		{"NaN", h, steps(9, Running, math.NaN(), 1), true},
		{"maximize", &History{Direction: Maximize, Trials: h.Trials}, steps(9, Running, 2.5, 2), true},
	}
	for _, c := range cases {
		if got := p.Prune(c.h, c.trial); got != c.want {
			t.Errorf("%s: Prune = %v; want %v", c.name, got, c.want)
		}
	}
	if (MedianPruner{WarmupSteps: 5}).Prune(h, steps(9, Running, 10, 2)) {
		t.Error("pruned during warm-up")
	}
}

func TestSuccessiveHalving(t *testing.T) {
	p := SuccessiveHalving{MinResource: 1, ReductionFactor: 2} // rungs at steps 1, 2, 4, ...
	h := &History{Direction: Minimize}
	for i, v := range []float64{1, 2, 3} {
		h.Trials = append(h.Trials, steps(i, Complete, v, 8))
	}
	// At rung 1 the competitors are {1, 2, 3, v}: the best 4/2 = 2 go on.
	if !p.Prune(h, steps(9, Running, 2.5, 2)) {
		t.Error("2.5 is not in the best half of {1, 2, 2.5, 3} but was kept")
	}
	if p.Prune(h, steps(9, Running, 1.5, 2)) {
		t.Error("1.5 is in the best half of {1, 1.5, 2, 3} but was pruned")
	}
	if p.Prune(h, steps(9, Running, 100, 1)) {
		t.Error("pruned before reaching the first rung")
	}
	// The first trial to reach a rung is promoted only if it is the best.
	if p.Prune(&History{}, steps(0, Running, 5, 8)) {
		t.Error("lone trial pruned")
	}
}

func TestHyperbandBrackets(t *testing.T) {
	p := Hyperband{MinResource: 1, MaxResource: 27, ReductionFactor: 3}
	_, w := p.brackets()
	if len(w) != 4 {
		t.Fatalf("%d brackets for resources 1..27 with η = 3; want 4", len(w))
	}
	count := make([]int, len(w))
	for n := range 1000 {
		b := p.Bracket(n)
		if b != p.Bracket(n) {
			t.Fatal("Bracket is not deterministic")
		}
		count[b]++
	}
	// The most aggressive bracket has the largest budget (Li et al.): it
	// gets the most trials.
	for b := 1; b < len(count); b++ {
		if count[0] <= count[b] {
			t.Errorf("bracket trial counts %v; want bracket 0 largest", count)
		}
	}
}

// TestPrunersInStudy runs a study whose objective reports a noisy learning
// curve for 9 steps: pruners must stop some trials and still find a good
// optimum.
func TestPrunersInStudy(t *testing.T) {
	for _, p := range []Pruner{
		MedianPruner{},
		SuccessiveHalving{ReductionFactor: 3},
		Hyperband{MinResource: 1, MaxResource: 9},
	} {
		ctx := context.Background()
		s, _ := NewStudy(ctx, "prune", Config{Sampler: TPESampler{}, Pruner: p, Seed: 5})
		stepsRun := 0
		res, err := s.Optimize(ctx, func(_ context.Context, t *Trial) (float64, error) {
			x := t.SuggestFloat("x", -5, 5, false)
			v := 0.0
			for step := range 9 {
				stepsRun++
				v = x*x + 1/float64(step+1)
				t.Report(v, step)
				if t.ShouldPrune() {
					return 0, ErrPruned
				}
			}
			return v, nil
		}, Budget{MaxTrials: 60})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%T: %d complete, %d pruned, %d of %d steps run, best %.4f", p, res.Complete, res.Pruned, stepsRun, 60*9, res.Best.Value)
		if res.Pruned == 0 || res.Best.Value > 0.5 {
			t.Errorf("%T: %d pruned, best %v; want some pruned and best <= 0.5", p, res.Pruned, res.Best.Value)
		}
		trials, _ := s.Trials(ctx)
		for _, tr := range trials {
			if last, ok := tr.LastStep(); tr.State == Pruned && (!ok || tr.Value != tr.Intermediate[last]) {
				t.Errorf("pruned trial %d has value %v; want its last reported value", tr.Number, tr.Value)
			}
		}
	}
}
