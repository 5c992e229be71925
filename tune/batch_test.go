package tune

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// batchQuadratic is quadratic split for OptimizeBatch: Suggest draws the
// parameters, Evaluate (slowest for the first trial of each batch, so
// trials finish in reverse order) reads them back.
func batchQuadratic(size int) BatchObjective {
	return BatchObjective{
		Suggest: func(t *Trial) error { _, err := quadratic(context.Background(), t); return err },
		Evaluate: func(ctx context.Context, t *Trial) (float64, error) {
			time.Sleep(time.Duration(size-t.Number()%size) * time.Millisecond)
			return quadratic(ctx, t)
		},
	}
}

func TestOptimizeBatchDeterministic(t *testing.T) {
	ctx := context.Background()
	run := func(size int, batched bool) []string {
		s, err := NewStudy(ctx, "batch", Config{Sampler: TPESampler{StartupTrials: 5}, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		b := Budget{MaxTrials: 22}
		if batched {
			_, err = s.OptimizeBatch(ctx, batchQuadratic(size), b, Batch{Size: size})
		} else {
			_, err = s.Optimize(ctx, quadratic, b)
		}
		if err != nil {
			t.Fatal(err)
		}
		return paramsOf(t, s)
	}
	seq := run(1, false)
	if got := run(1, true); !slices.Equal(got, seq) {
		t.Errorf("batches of 1 differ from Optimize:\n%v\n%v", got, seq)
	}
	for _, size := range []int{2, 4} {
		a, b := run(size, true), run(size, true)
		if len(a) != 22 {
			t.Errorf("size %d: %d trials; want 22", size, len(a))
		}
		if !slices.Equal(a, b) {
			t.Errorf("size %d: two batched studies with one seed differ:\n%v\n%v", size, a, b)
		}
		if slices.Equal(a, seq) {
			t.Errorf("size %d: the batched study equals the sequential one; the batches saw results they should not have", size)
		}
	}
}

// liarProbe records, for each trial it samples, the lies in its history.
type liarProbe struct {
	TPESampler
	mu   sync.Mutex
	seen map[int][]float64 // trial number → lied values
}

func (p *liarProbe) SampleIndependent(h *History, rng *rand.Rand, name string, d Distribution) (float64, error) {
	next := 0 // the number of the trial being sampled: after every other
	for _, t := range h.Trials {
		next = max(next, t.Number+1)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.seen[next]; !ok {
		var lies []float64 // the running trials of the batch, the latest ones
		for _, t := range h.Trials[len(h.Trials)-h.Lies:] {
			lies = append(lies, t.Value)
		}
		p.seen[next] = lies
	}
	return p.TPESampler.SampleIndependent(h, rng, name, d)
}

// TestConstantLiar checks that the k-th trial of a batch is sampled with
// the k earlier ones given the worst value finished before the batch.
func TestConstantLiar(t *testing.T) {
	ctx := context.Background()
	probe := &liarProbe{TPESampler: TPESampler{StartupTrials: 2}, seen: map[int][]float64{}}
	s, err := NewStudy(ctx, "liar", Config{Sampler: probe, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	obj := BatchObjective{
		Suggest:  func(t *Trial) error { t.SuggestFloat("x", 0, 10, false); return nil },
		Evaluate: func(_ context.Context, t *Trial) (float64, error) { return t.SuggestFloat("x", 0, 10, false), nil },
	}
	if _, err := s.OptimizeBatch(ctx, obj, Budget{MaxTrials: 9}, Batch{Size: 3}); err != nil {
		t.Fatal(err)
	}
	trials, _ := s.Trials(ctx)
	for n := 3; n < 9; n++ {
		worst := math.Inf(-1)
		for _, tr := range trials[:n-n%3] {
			worst = math.Max(worst, tr.Value)
		}
		want := slices.Repeat([]float64{worst}, n%3)
		if got := probe.seen[n]; !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("trial %d saw lies %v; want %v (the worst of the trials before its batch, once per earlier trial of the batch)", n, got, want)
		}
	}
}
