package meta

import (
	"context"
	"math"
	"sort"

	"github.com/tabforge/tabforge/pipeline"
)

// AdviseOptions tune Advise; the zero value is the documented default.
type AdviseOptions struct {
	// K is how many nearest datasets to draw configurations from; 0
	// means 5.
	K int
	// Top is the most configurations to suggest; 0 means 10.
	Top int
	// Exclude is the key of a known dataset to leave out (the table's
	// own, for leave-one-out evaluation); "" leaves none out.
	Exclude string
}

// Neighbour is a known dataset near the table.
type Neighbour struct {
	Key      string  `json:"key"`
	Name     string  `json:"name"`
	Distance float64 `json:"distance"`
}

// Advice is what the knowledge base says about a table.
type Advice struct {
	Features *Features `json:"features"`
	// Known counts the known datasets of the table's task.
	Known int `json:"known"`
	// Neighbours are the nearest known datasets, nearest first; a known
	// dataset at no finite distance (sharing no meta-feature with the
	// table) is none.
	Neighbours []Neighbour `json:"neighbours"`
	// Configs are the configurations to try first, best first: the best
	// of each neighbour in neighbour order, then the second best of each,
	// and so on, each configuration once. Ensembles are left out; they
	// are built from candidates, not tried.
	Configs []*Suggestion `json:"configs"`
	// Far is true when the nearest known dataset is farther than
	// Threshold (or none is a neighbour): a warm start would guess, so a
	// run should start cold. Rule says how Threshold was set. Nearest is
	// the nearest neighbour's distance, nil when there is none.
	Far       bool     `json:"far"`
	Nearest   *float64 `json:"nearest"`
	Threshold float64  `json:"threshold"`
	Rule      string   `json:"rule"`
}

// Suggestion is a configuration to try, with where it did well.
type Suggestion struct {
	*Eval
	Name     string  `json:"name"`     // the dataset it was evaluated on
	Distance float64 `json:"distance"` // that dataset's distance to the table
	Rank     int     `json:"rank"`     // 1 for that dataset's best configuration
}

// Advise finds the known datasets of f's task nearest to f and the
// configurations that did best on them, and judges whether f is far from
// every known dataset (FarThreshold).
func Advise(ctx context.Context, kb *KB, f *Features, o AdviseOptions) (*Advice, error) {
	all, err := kb.Datasets(ctx)
	if err != nil {
		return nil, err
	}
	var known []*Dataset
	var feats []*Features
	for _, d := range all {
		if d.Task == f.Task && d.Key != o.Exclude {
			known, feats = append(known, d), append(feats, d.Features)
		}
	}
	s := NewScaler(feats)
	a := &Advice{Features: f, Known: len(known), Far: true, Neighbours: []Neighbour{}, Configs: []*Suggestion{}}
	a.Threshold, a.Rule = FarThreshold(s, feats)
	for _, d := range known {
		// A dataset at no finite distance shares no meta-feature with the
		// table (or differs beyond what a float holds): it cannot be
		// ranked, so it is no neighbour, and its +Inf would make the
		// advice unencodable as JSON (meta show --json, a run's report).
		if dist := s.Distance(f, d.Features); !math.IsInf(dist, 0) && !math.IsNaN(dist) {
			a.Neighbours = append(a.Neighbours, Neighbour{Key: d.Key, Name: d.Name, Distance: dist})
		}
	}
	sort.SliceStable(a.Neighbours, func(i, j int) bool { return a.Neighbours[i].Distance < a.Neighbours[j].Distance })
	if len(a.Neighbours) > 0 {
		d := a.Neighbours[0].Distance
		a.Nearest, a.Far = &d, d > a.Threshold
	}
	a.Neighbours = a.Neighbours[:min(len(a.Neighbours), cmpOr(o.K, 5))]
	if a.Configs, err = suggest(ctx, kb, known, a.Neighbours, cmpOr(o.Top, 10)); err != nil {
		return nil, err
	}
	return a, nil
}

// suggest interleaves the neighbours' configurations by rank.
func suggest(ctx context.Context, kb *KB, known []*Dataset, near []Neighbour, top int) ([]*Suggestion, error) {
	higher := map[string]bool{}
	for _, d := range known {
		higher[d.Key] = d.HigherIsBetter
	}
	ranked := make([][]*Eval, len(near))
	for i, n := range near {
		evals, err := kb.Evals(ctx, n.Key)
		if err != nil {
			return nil, err
		}
		var keep []*Eval
		for _, e := range evals {
			if e.Source != pipeline.SourceEnsemble {
				keep = append(keep, e)
			}
		}
		up := higher[n.Key]
		sort.SliceStable(keep, func(a, b int) bool {
			if up {
				return keep[a].Score > keep[b].Score
			}
			return keep[a].Score < keep[b].Score
		})
		ranked[i] = keep
	}
	out := []*Suggestion{}
	seen := map[string]bool{}
	for rank := 0; len(out) < top; rank++ {
		more := false
		for i, evals := range ranked {
			if rank >= len(evals) || len(out) >= top {
				continue
			}
			more = true
			if e := evals[rank]; !seen[e.ID] {
				seen[e.ID] = true
				out = append(out, &Suggestion{Eval: e, Name: near[i].Name, Distance: near[i].Distance, Rank: rank + 1})
			}
		}
		if !more {
			break
		}
	}
	return out, nil
}
