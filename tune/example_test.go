package tune_test

import (
	"context"
	"fmt"
	"log"
	"math"

	"github.com/tabforge/tabforge/tune"
)

// A seeded TPE study minimising a function of one float, one integer and
// one categorical parameter; with one worker the study is reproducible.
func ExampleStudy_Optimize() {
	ctx := context.Background()
	study, err := tune.NewStudy(ctx, "quadratic", tune.Config{Sampler: tune.TPESampler{}, Seed: 7})
	if err != nil {
		log.Fatal(err)
	}
	objective := func(ctx context.Context, t *tune.Trial) (float64, error) {
		x := t.SuggestFloat("x", -10, 10, false)
		n := t.SuggestInt("n", 1, 8, false)
		v := (x-2)*(x-2) + float64((n-3)*(n-3))
		if t.SuggestCategorical("shape", []string{"flat", "bumpy"}) == "bumpy" {
			v += 1
		}
		return v, nil
	}
	res, err := study.Optimize(ctx, objective, tune.Budget{MaxTrials: 60})
	if err != nil {
		log.Fatal(err)
	}
	best := res.Best.ParamValues()
	fmt.Println(res.Complete, "trials complete, stopped by", res.Stopped)
	fmt.Printf("best: x=%.1f n=%v shape=%v\n", best["x"], best["n"], best["shape"])
	fmt.Printf("value %.2f\n", res.Best.Value)
	// Output:
	// 60 trials complete, stopped by max_trials
	// best: x=2.2 n=3 shape=flat
	// value 0.04
}

// Ask and Tell drive a study from a loop the caller owns, one trial at a
// time, instead of handing Optimize an objective.
func ExampleStudy_Ask() {
	ctx := context.Background()
	study, err := tune.NewStudy(ctx, "ask-tell", tune.Config{Sampler: tune.RandomSampler{}, Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	for range 20 {
		t, err := study.Ask(ctx)
		if err != nil {
			log.Fatal(err)
		}
		lr := t.SuggestFloat("learning_rate", 1e-3, 1, true)
		if _, err := study.Tell(ctx, t, math.Abs(math.Log10(lr)+1), nil); err != nil {
			log.Fatal(err)
		}
	}
	best, ok, err := study.Best(ctx)
	if err != nil || !ok {
		log.Fatal("no best trial: ", err)
	}
	fmt.Printf("trial %d: learning_rate %.2f\n", best.Number, best.ParamValues()["learning_rate"])
	// Output:
	// trial 2: learning_rate 0.12
}
