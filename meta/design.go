package meta

import (
	"maps"
	"math"
	"math/rand/v2"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/pipeline"
)

// DesignSeed seeds Design; changing it changes the shipped knowledge
// base.
const DesignSeed = 20261204

// Design is the fixed set of configurations `tabforge meta build`
// evaluates on every corpus dataset of task: per family, its static
// defaults (pipeline.StaticParams, what an untuned run trains with) and
// a small space-filling set, a Latin hypercube drawn with DesignSeed
// over the family's important parameters inside its tuning space, so
// every point can also start a tuning study. Families: gbdt (1 + 6),
// forest (1 + 5), and ridge (regression) or logistic (classification)
// (1 + 4 values of the penalty on a log grid). It is small on purpose:
// the build runs it on ~100 datasets on two cores.
func Design(task model.Task) []pipeline.FamilyConfig {
	rng := rand.New(rand.NewPCG(DesignSeed, 1))
	out := []pipeline.FamilyConfig{{Family: "gbdt", Params: pipeline.StaticParams("gbdt")}}
	for _, u := range latinHypercube(rng, 6, 6) {
		p := map[string]any{
			// Early stopping as in the tuning space's "early" branch.
			"n_estimators": 2000, "early_stopping_rounds": 50, "validation_fraction": 0.1,
			"learning_rate":    round4(logUniform(u[0], 0.02, 0.3)),
			"max_depth":        2 + int(u[1]*9), // 2..10
			"min_child_weight": round4(logUniform(u[2], 1, 20)),
			"subsample":        round4(0.5 + 0.5*u[3]),
			"colsample_bytree": round4(0.4 + 0.6*u[4]),
			"lambda":           round4(logUniform(u[5], 1e-3, 10)),
		}
		out = append(out, pipeline.FamilyConfig{Family: "gbdt", Params: p})
	}
	out = append(out, pipeline.FamilyConfig{Family: "forest", Params: pipeline.StaticParams("forest")})
	features := []any{"sqrt", "log2", 0.33, 0.5, "all"}
	for i, u := range latinHypercube(rng, 5, 3) {
		p := map[string]any{"min_samples_leaf": 1 + int(math.Round(logUniform(u[0], 1, 20)-1)), "max_features": features[i%len(features)]}
		if u[1] >= 0.4 { // depth limited on 3 of 5 points
			p["max_depth"] = 6 + int(u[2]*19) // 6..24
		}
		out = append(out, pipeline.FamilyConfig{Family: "forest", Params: p})
	}
	linear, key := "ridge", "alpha"
	values := []float64{1e-3, 0.1, 10, 300}
	if task.IsClassification() {
		linear, key = "logistic", "c"
		values = []float64{0.01, 0.1, 10, 100}
	}
	out = append(out, pipeline.FamilyConfig{Family: linear, Params: pipeline.StaticParams(linear)})
	for _, v := range values {
		out = append(out, pipeline.FamilyConfig{Family: linear, Params: map[string]any{key: v}})
	}
	for i := range out {
		out[i].Params = maps.Clone(out[i].Params)
	}
	return out
}

// latinHypercube returns n points in [0,1)^dims, one in each of the n
// equal strata of every dimension.
func latinHypercube(rng *rand.Rand, n, dims int) [][]float64 {
	pts := make([][]float64, n)
	for i := range pts {
		pts[i] = make([]float64, dims)
	}
	for d := range dims {
		perm := rng.Perm(n)
		for i := range n {
			pts[i][d] = (float64(perm[i]) + rng.Float64()) / float64(n)
		}
	}
	return pts
}

func logUniform(u, lo, hi float64) float64 {
	return math.Exp(math.Log(lo) + u*(math.Log(hi)-math.Log(lo)))
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }
