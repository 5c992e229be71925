package meta

import (
	"context"
	"math"
	"path/filepath"
	"sort"

	"github.com/tabforge/tabforge/pipeline"
)

// Advisor is the meta-learner of a training run (pipeline.MetaAdvisor)
// over a knowledge base, typically the user's store layered over the
// shipped one (see Layered and Shipped).
type Advisor struct {
	KB *KB
	// K is how many nearest datasets advise; 0 means 5.
	K int
	// Options compute the run's meta-features.
	Options Options
	// Exclude is a dataset key to leave out (leave-one-out evaluation).
	Exclude string
}

var _ pipeline.MetaAdvisor = Advisor{}

// AdviseRun implements pipeline.MetaAdvisor. Each family's untuned
// configuration is its portfolio entry on the K nearest datasets: the
// configuration with the best mean normalised score there, weighted by
// 1/(0.1 + distance), where a configuration's score on a dataset is
// scaled to [0, 1] between the family's worst and best on it (a dataset
// that never ran it counts 0.5). A family's warm starts are that entry,
// then each nearest dataset's best configuration of the family, then
// their second best, and so on, each once. Only evaluations on the basic
// features count: an advanced variant's score is the features' as much
// as the parameters'. Beneath a Layered knowledge base, the base
// layer's record of the run's own dataset is left out.
func (a Advisor) AdviseRun(ctx context.Context, q pipeline.MetaQuery) (*pipeline.MetaAdvice, error) {
	f, err := Compute(ctx, q.Table, a.Options)
	if err != nil {
		return nil, err
	}
	if l, ok := a.KB.Records.(Layered); ok {
		// The shipped knowledge base scored its design on whole files,
		// holdout rows included: for the run's own file it would leak
		// the test rows into the configuration. The user's own runs of
		// it (the top layer) scored on training rows only and stay.
		kb := *a.KB
		kb.Records = Layered{Top: l.Top, Base: hiding{Records: l.Base, key: DatasetKey(q.Dataset, q.Target)}}
		a.KB = &kb
	}
	return a.adviseFeatures(ctx, f, q.Families)
}

// adviseFeatures is AdviseRun for a table's meta-features.
func (a Advisor) adviseFeatures(ctx context.Context, f *Features, families []string) (*pipeline.MetaAdvice, error) {
	adv, err := Advise(ctx, a.KB, f, AdviseOptions{K: cmpOr(a.K, 5), Top: 1, Exclude: a.Exclude})
	if err != nil {
		return nil, err
	}
	out := &pipeline.MetaAdvice{Defaults: map[string]pipeline.MetaConfig{}, Starts: map[string][]pipeline.MetaConfig{},
		Info: pipeline.MetaInfo{Known: adv.Known, Far: adv.Far, Threshold: adv.Threshold, Rule: adv.Rule}}
	if adv.Nearest != nil {
		out.Info.Nearest = *adv.Nearest
	}
	higher := map[string]bool{}
	if all, err := a.KB.Datasets(ctx); err == nil {
		for _, d := range all {
			higher[d.Key] = d.HigherIsBetter
		}
	} else {
		return nil, err
	}
	near := make([]neighbourEvals, len(adv.Neighbours))
	for i, n := range adv.Neighbours {
		out.Info.Neighbours = append(out.Info.Neighbours, pipeline.MetaNeighbor{Name: filepath.Base(n.Name), Distance: n.Distance})
		evals, err := a.KB.Evals(ctx, n.Key)
		if err != nil {
			return nil, err
		}
		near[i] = neighbourEvals{n: n, evals: evals, higher: higher[n.Key]}
	}
	for _, fam := range families {
		if starts := familyAdvice(near, fam); len(starts) > 0 {
			out.Defaults[fam], out.Starts[fam] = starts[0], starts
		}
	}
	return out, nil
}

type neighbourEvals struct {
	n      Neighbour
	evals  []*Eval
	higher bool
}

// ranked returns the neighbour's basic-feature evaluations of family,
// best first, with their scores scaled to [0, 1].
func (ne neighbourEvals) ranked(family string) ([]*Eval, map[string]float64) {
	var keep []*Eval
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, e := range ne.evals {
		if e.Family == family && e.Variant == "" && e.Source != pipeline.SourceEnsemble && !math.IsNaN(e.Score) {
			keep = append(keep, e)
			lo, hi = math.Min(lo, e.Score), math.Max(hi, e.Score)
		}
	}
	sort.SliceStable(keep, func(i, j int) bool {
		if ne.higher {
			return keep[i].Score > keep[j].Score
		}
		return keep[i].Score < keep[j].Score
	})
	norm := map[string]float64{}
	for _, e := range keep {
		v := 1.0
		if hi > lo {
			v = (e.Score - lo) / (hi - lo)
			if !ne.higher {
				v = 1 - v
			}
		}
		norm[e.ID] = v
	}
	return keep, norm
}

// familyAdvice is family's portfolio entry followed by the neighbours'
// configurations interleaved by rank, each once.
func familyAdvice(near []neighbourEvals, family string) []pipeline.MetaConfig {
	type cand struct {
		e    *Eval
		from Neighbour
		sum  float64
	}
	cands := map[string]*cand{}
	var order []string
	ranked := make([][]*Eval, len(near))
	norms := make([]map[string]float64, len(near))
	var wsum float64
	for i, ne := range near {
		ranked[i], norms[i] = ne.ranked(family)
		if len(ranked[i]) == 0 {
			continue
		}
		wsum += 1 / (0.1 + ne.n.Distance)
		for _, e := range ranked[i] {
			if cands[e.ID] == nil {
				cands[e.ID] = &cand{e: e, from: ne.n}
				order = append(order, e.ID)
			}
		}
	}
	if len(order) == 0 {
		return nil
	}
	bestID, best := "", math.Inf(-1)
	for _, id := range order {
		c := cands[id]
		for i, ne := range near {
			if len(ranked[i]) == 0 {
				continue
			}
			v, ok := norms[i][id]
			if !ok {
				v = 0.5
			}
			c.sum += v / (0.1 + ne.n.Distance)
		}
		if c.sum > best {
			bestID, best = id, c.sum
		}
	}
	conf := func(e *Eval, n Neighbour) pipeline.MetaConfig {
		return pipeline.MetaConfig{Params: e.Params, From: filepath.Base(n.Name), Distance: n.Distance}
	}
	out := []pipeline.MetaConfig{conf(cands[bestID].e, cands[bestID].from)}
	seen := map[string]bool{bestID: true}
	for rank := 0; ; rank++ {
		more := false
		for i, ne := range near {
			if rank >= len(ranked[i]) {
				continue
			}
			more = true
			if e := ranked[i][rank]; !seen[e.ID] {
				seen[e.ID] = true
				out = append(out, conf(e, ne.n))
			}
		}
		if !more {
			return out
		}
	}
}
