package meta

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/pipeline"
)

// DesignSeed seeds Design; changing it changes the shipped knowledge
// base.
const DesignSeed = 20261204

// Design is the fixed set of configurations `tabforge meta build`
// evaluates on every corpus dataset of task: per family, its static
// defaults (pipeline.StaticParams, what an untuned run trains with) and
// a space-filling set over the family's important parameters inside its
// tuning space, so every point can also start a tuning study. Families:
// gbdt (1 + 15 over learning rate, depth, min_child_weight, subsample,
// colsample and L2: a Latin hypercube of 6 drawn with DesignSeed, then 9
// more from a second stream placed as far as possible from those, see
// augmentLHS), forest (1 + 5), and ridge (regression) or logistic
// (classification) (1 + 4 values of the penalty on a log grid). The 9
// augmenting points came later: six gbdt points gave warm starts and
// zero-shot too little to choose from (`tabforge meta eval` in the README
// has both), and adding points to the design, rather than redrawing it,
// lets `meta build` score only the new ones on a knowledge base built
// with the first (see Build).
func Design(task model.Task) []pipeline.FamilyConfig {
	rng := rand.New(rand.NewPCG(DesignSeed, 1))
	out := []pipeline.FamilyConfig{{Family: "gbdt", Params: pipeline.StaticParams("gbdt")}}
	first := latinHypercube(rng, 6, 6)
	more := augmentLHS(rand.New(rand.NewPCG(DesignSeed, 2)), first, 9, designCandidates)
	for _, u := range append(first, more...) {
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

// designCandidates is how many Latin hypercubes augmentLHS draws.
const designCandidates = 200

// augmentLHS returns n more points for the design old in [0,1)^dims: of
// tries Latin hypercubes of n points drawn, the one whose closest pair
// of points, old ones included, is farthest apart (maximin), so the new
// points fill the gaps the old ones left rather than repeat them.
func augmentLHS(rng *rand.Rand, old [][]float64, n, tries int) [][]float64 {
	var best [][]float64
	bestMin := -1.0
	for range tries {
		pts := latinHypercube(rng, n, len(old[0]))
		closest := math.Inf(1)
		all := append(slices.Clone(old), pts...)
		for i := len(old); i < len(all); i++ {
			for j := range i {
				d := 0.0
				for k := range all[i] {
					d += (all[i][k] - all[j][k]) * (all[i][k] - all[j][k])
				}
				closest = math.Min(closest, d)
			}
		}
		if closest > bestMin {
			best, bestMin = pts, closest
		}
	}
	return best
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
