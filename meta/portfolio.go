package meta

import (
	"math"
	"path/filepath"
	"sort"

	"github.com/tabforge/tabforge/pipeline"
)

// candidate is a configuration of the nearest datasets, scored.
type candidate struct {
	e    *Eval
	from Neighbour
	// mean is its mean normalised score over the nearest datasets that
	// ran the family, weighted by 1/(0.1 + distance), a dataset that
	// never ran it counting 0.5; pred the surrogate's predicted
	// normalised rank and overall its Surrogate.Overall (NaN without a
	// surrogate).
	mean, pred, overall float64
	// rank is its best rank on a nearest dataset (0 the best), nb the
	// nearest such dataset's index.
	rank, nb int
}

// surrogateWeight is the surrogate's prediction's share of a
// candidate's score, the rest its Overall record against the static
// defaults: the prediction adapts to the table, the record is robust.
// Chosen by `tabforge meta eval` on the shipped knowledge base (zero-shot
// gbdt wins over static defaults of 101 datasets, leave-one-dataset-out,
// k = 5). With the 7-point gbdt design: 0 (the record alone) 69, 0.5 70,
// 1 (the prediction alone) 70, and the neighbours' weighted mean
// normalised score in the blend at most 70. With the 16-point design: 0
// 74 but the best family 57, 0.5 74 and the best family 67; a second
// surrogate predicting the outcome against the static defaults directly
// did worse (68 alone, 73 blended with the record).
const surrogateWeight = 0.5

// familyAdvice returns family's configurations from the nearest
// datasets, each once, best first. Without a surrogate the best mean
// normalised score comes first (the portfolio entry), then each
// neighbour's best, second best and so on (auto-sklearn 1's order). With
// one, all are ordered by the blend of the surrogate's prediction for the
// table f and the configuration's record against the static defaults
// over the whole knowledge base (see surrogateWeight).
func familyAdvice(near []neighbourEvals, family string, f *Features, sur *Surrogate) ([]pipeline.MetaConfig, error) {
	cands := map[string]*candidate{}
	var list []*candidate
	ranked := make([][]*Eval, len(near))
	norms := make([]map[string]float64, len(near))
	var wsum float64
	for i, ne := range near {
		ranked[i], norms[i] = ne.ranked(family)
		if len(ranked[i]) == 0 {
			continue
		}
		wsum += 1 / (0.1 + ne.n.Distance)
		for r, e := range ranked[i] {
			if c := cands[e.ID]; c != nil {
				if r < c.rank {
					c.rank, c.nb = r, i
				}
				continue
			}
			c := &candidate{e: e, from: ne.n, rank: r, nb: i, pred: math.NaN()}
			cands[e.ID] = c
			list = append(list, c)
		}
	}
	if len(list) == 0 {
		return nil, nil
	}
	for _, c := range list {
		for i, ne := range near {
			if len(ranked[i]) == 0 {
				continue
			}
			v, ok := norms[i][c.e.ID]
			if !ok {
				v = 0.5
			}
			c.mean += v / (0.1 + ne.n.Distance) / wsum
		}
	}
	if sur != nil {
		params := make([]map[string]any, len(list))
		for i, c := range list {
			params[i] = c.e.Params
		}
		pred, err := sur.Predict(f, params)
		if err != nil {
			return nil, err
		}
		for i, c := range list {
			c.pred, c.overall = pred[i], sur.Overall(c.e.ID)
		}
	}
	order(list, sur != nil)
	out := make([]pipeline.MetaConfig, len(list))
	for i, c := range list {
		out[i] = pipeline.MetaConfig{Params: c.e.Params, From: filepath.Base(c.from.Name), Distance: c.from.Distance}
	}
	return out, nil
}

// order sorts candidates best first: by the blended score with a
// surrogate, else the best mean first and then by their best rank on a
// neighbour, ties in neighbour order.
func order(list []*candidate, surrogate bool) {
	if surrogate {
		score := func(c *candidate) float64 { return surrogateWeight*c.pred + (1-surrogateWeight)*c.overall }
		sort.SliceStable(list, func(i, j int) bool { return score(list[i]) > score(list[j]) })
		return
	}
	best := 0
	for i, c := range list {
		if c.mean > list[best].mean {
			best = i
		}
	}
	list[0], list[best] = list[best], list[0]
	rest := list[1:]
	sort.SliceStable(rest, func(i, j int) bool {
		if rest[i].rank != rest[j].rank {
			return rest[i].rank < rest[j].rank
		}
		return rest[i].nb < rest[j].nb
	})
}
