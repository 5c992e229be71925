package uibench

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/tune"
)

// FillRuns puts n seeded synthetic runs in st: three datasets, every
// fifth run failed, the last one running, the others succeeded with a
// two-model leaderboard; ids run-00000, run-00001, ...
func FillRuns(ctx context.Context, st store.Runs, n int, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 1))
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	families := []string{"gbdt", "forest", "linear"}
	profiles := []string{"default", "production", "research"}
	for i := range n {
		task, metric := "regression", "r2"
		if i%3 == 1 {
			task, metric = "binary", "roc_auc"
		}
		r := &store.Run{ID: fmt.Sprintf("run-%05d", i), Created: base.Add(time.Duration(i) * time.Minute),
			DatasetPath: []string{"data/a.csv", "data/b.csv", "data/c.csv"}[i%3], DatasetHash: fmt.Sprintf("%016x", uint64(i%3)*0x1111),
			ConfigHash: "c", Config: json.RawMessage(fmt.Sprintf(`{"seed":%d,"cv_folds":5}`, i%4)), Task: task, Target: "y",
			Status: store.Succeeded, Profile: profiles[i%3]}
		switch {
		case i%5 == 0:
			r.Status, r.Error, r.Finished = store.Failed, "synthetic failure", r.Created.Add(time.Second)
		case i == n-1:
			r.Status = store.Running
		default:
			r.Best = families[rng.IntN(len(families))]
			r.Finished = r.Created.Add(time.Duration(1+rng.IntN(600)) * time.Second)
			cv, test := rng.Float64(), rng.Float64()
			r.Result, _ = json.Marshal(map[string]any{"metric": metric, "best": r.Best, "leaderboard": []map[string]any{
				{"model": r.Best, "cv": map[string]float64{metric: cv}, "test": map[string]float64{metric: test}},
				{"model": "baseline", "cv": map[string]float64{metric: cv / 2}, "test": map[string]float64{metric: test / 2}},
			}})
		}
		if err := st.PutRun(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// Objective is the synthetic study's objective without its noise: it
// depends strongly on learning_rate (in log space), weakly on depth and
// not at all on subsample or booster, so an importance measure must rank
// them in that order.
func Objective(learningRate, depth float64) float64 {
	l := math.Log10(learningRate) + 1.3
	return 0.2 + l*l + 0.01*depth
}

// FillStudy puts a minimising study of n seeded trials in st: four
// parameters (learning_rate log-uniform, depth int, subsample float,
// booster categorical), value Objective plus small noise, every tenth
// trial pruned and the last one running. It returns the study's id.
func FillStudy(ctx context.Context, st store.Store, name string, n int, seed uint64) (int64, error) {
	id, err := st.CreateStudy(ctx, name, tune.Minimize)
	if err != nil {
		return 0, err
	}
	rng := rand.New(rand.NewPCG(seed, 2))
	start := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	dists := map[string]tune.Distribution{"learning_rate": tune.FloatDist(0.001, 0.5, true), "depth": tune.IntDist(2, 12, false),
		"subsample": tune.FloatDist(0.5, 1, false), "booster": tune.CategoricalDist("gbtree", "dart")}
	for i := range n {
		lr := math.Exp(math.Log(0.001) + rng.Float64()*(math.Log(0.5)-math.Log(0.001)))
		depth := float64(2 + rng.IntN(11))
		tr := tune.FrozenTrial{Number: i, State: tune.Complete, Value: Objective(lr, depth) + 0.02*rng.NormFloat64(), RetryOf: -1,
			Params:        map[string]float64{"learning_rate": lr, "depth": depth, "subsample": 0.5 + 0.5*rng.Float64(), "booster": float64(rng.IntN(2))},
			Distributions: dists, Start: start.Add(time.Duration(i) * time.Second), Finish: start.Add(time.Duration(i)*time.Second + time.Second/2)}
		switch {
		case i == n-1:
			tr.State, tr.Value, tr.Finish = tune.Running, math.NaN(), time.Time{}
		case i%10 == 9:
			tr.State = tune.Pruned
		}
		if err := st.PutTrial(ctx, name, tr); err != nil {
			return 0, err
		}
	}
	return id, nil
}
