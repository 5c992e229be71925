package meta

import (
	"context"
	"log/slog"
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
	// Ranker orders the nearest datasets' configurations: RankSurrogate
	// ("", the default) or RankNeighbours.
	Ranker string
	// Surrogates caches the fitted surrogates across calls; nil fits
	// them afresh on each.
	Surrogates *SurrogateCache
	// Logger says which of the user's records of the run's own data file
	// AdviseRun leaves out and why; nil logs nothing.
	Logger *slog.Logger
}

// Rankers of Advisor.Ranker.
const (
	// RankSurrogate ranks the nearest datasets' configurations by the
	// family's Surrogate fitted on the whole knowledge base, blended
	// with their scores on the nearest datasets (see familyAdvice).
	RankSurrogate = "surrogate"
	// RankNeighbours ranks them by their scores on the nearest datasets
	// alone (auto-sklearn 1, FLAML zero-shot).
	RankNeighbours = "neighbours"
)

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
// layer's record of the run's own dataset is left out; of the user's
// records of it (the top layer, or the whole knowledge base when not
// Layered) only evaluations recorded on the run's split (q.Split) count.
func (a Advisor) AdviseRun(ctx context.Context, q pipeline.MetaQuery) (*pipeline.MetaAdvice, error) {
	f, err := Compute(ctx, q.Table, a.Options)
	if err != nil {
		return nil, err
	}
	own := DatasetKey(q.Dataset, q.Target)
	kb := *a.KB
	top := kb.Records
	l, layered := kb.Records.(Layered)
	if layered {
		top = l.Top
	}
	// A run on another split of the file cross-validated on rows this
	// run tests: its scores would pick this run's configuration with
	// the test rows' help. A rerun on the same split (a resume, another
	// max_evals) saw the same rows and keeps them.
	hide, err := otherSplits(ctx, top, own, q.Split, a.Logger)
	if err != nil {
		return nil, err
	}
	top = withoutKeys(top, hide)
	kb.Records = top
	if layered {
		// The shipped knowledge base scored its design on a sample of
		// the whole file split by its own holdout, so its folds held rows
		// the run's split tests: for the run's own file it would leak the
		// test rows into the configuration.
		kb.Records = Layered{Top: top, Base: withoutDataset(l.Base, own)}
	}
	a.KB = &kb
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
	all, err := a.KB.Datasets(ctx)
	if err != nil {
		return nil, err
	}
	evals, err := a.KB.allEvals(ctx)
	if err != nil {
		return nil, err
	}
	higher := map[string]bool{}
	var train []*Dataset // the surrogates' data: every known dataset but the excluded
	for _, d := range all {
		higher[d.Key] = d.HigherIsBetter
		if d.Key != a.Exclude {
			train = append(train, d)
		}
	}
	near := make([]neighbourEvals, len(adv.Neighbours))
	for i, n := range adv.Neighbours {
		out.Info.Neighbours = append(out.Info.Neighbours, pipeline.MetaNeighbor{Name: filepath.Base(n.Name), Distance: n.Distance})
		near[i] = neighbourEvals{n: n, evals: evals[n.Key], higher: higher[n.Key]}
	}
	for _, fam := range families {
		var sur *Surrogate
		if a.Ranker != RankNeighbours && !adv.Far {
			if sur, err = a.Surrogates.Get(ctx, fam, train, evals); err != nil {
				return nil, err
			}
		}
		starts, err := familyAdvice(near, fam, f, sur)
		if err != nil {
			return nil, err
		}
		if len(starts) > 0 {
			out.Defaults[fam], out.Starts[fam] = zeroShotPick(fam, starts), starts
		}
	}
	return out, nil
}

// zeroShotPick is the first of starts that is not the family's static
// defaults: training cross-validates the zero-shot configuration against
// the static defaults anyway, so proposing the static defaults themselves
// would waste the check. The static defaults only when nothing else is
// known.
func zeroShotPick(family string, starts []pipeline.MetaConfig) pipeline.MetaConfig {
	static, _ := ConfigID(family, "", nil, pipeline.StaticParams(family))
	for _, c := range starts {
		if id, _ := ConfigID(family, "", nil, c.Params); id != static {
			return c
		}
	}
	return starts[0]
}

type neighbourEvals struct {
	n      Neighbour
	evals  []*Eval
	higher bool
}

// ranked returns the neighbour's basic-feature evaluations of family,
// best first, with their scores scaled to [0, 1].
func (ne neighbourEvals) ranked(family string) ([]*Eval, map[string]float64) {
	keep := familyEvals(ne.evals, family)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, e := range keep {
		lo, hi = math.Min(lo, e.Score), math.Max(hi, e.Score)
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
