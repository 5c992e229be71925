package meta

import (
	"context"
	"math"
	"path/filepath"
	"slices"

	"github.com/tabforge/tabforge/pipeline"
)

// ZeroShotReport compares, leaving each known dataset out in turn, the
// configuration zero-shot meta-learning picks for it (from the other
// datasets) with the static defaults, both scored by the dataset's own
// recorded CV evaluations (the build's design holds both).
type ZeroShotReport struct {
	// Families holds the wins, ties and losses of zero-shot per family;
	// Best compares each dataset's best family under either.
	Families map[string]*Tally `json:"families"`
	Best     Tally             `json:"best"`
	// Far counts the datasets judged far from the others (they fall back
	// to static defaults: ties). MeanGain is the mean, over datasets, of
	// zero-shot's normalised gain over static: the best zero-shot score
	// of any family less the best static score, divided by the widest
	// range of one family's scores on that dataset (so that a dataset
	// where every configuration scores alike does not weigh more).
	Far      int           `json:"far"`
	MeanGain float64       `json:"mean_gain"`
	Datasets []ZeroShotRow `json:"datasets"`
}

// Tally counts a comparison's outcomes. Unscored counts the datasets
// left out because zero-shot picked a configuration the dataset has no
// evaluation of (a knowledge base of training runs rather than meta
// build's design): there is nothing to compare, which is not a tie.
type Tally struct {
	Wins, Ties, Losses int
	Unscored           int `json:",omitempty"`
}

// WinShare is the share of decided comparisons zero-shot wins:
// wins / (wins + losses), NaN when all tied.
func (t Tally) WinShare() float64 {
	return float64(t.Wins) / float64(t.Wins+t.Losses)
}

func (t *Tally) add(zero, static float64, higher bool) {
	switch {
	case math.Abs(zero-static) <= 1e-12:
		t.Ties++
	case (zero > static) == higher:
		t.Wins++
	default:
		t.Losses++
	}
}

// ZeroShotRow is one dataset's comparison.
type ZeroShotRow struct {
	Name   string  `json:"name"`
	Far    bool    `json:"far"`
	Static float64 `json:"static"`    // best family's score under static defaults
	Zero   float64 `json:"zero_shot"` // best family's score under zero-shot
}

// EvaluateZeroShot runs the leave-one-dataset-out comparison of zero-shot
// defaults against static defaults over every dataset of kb that has the
// static defaults' evaluations (a corpus build), advised by a (its KB,
// K, Ranker and Surrogates; Exclude is set to each dataset in turn).
func EvaluateZeroShot(ctx context.Context, a Advisor) (*ZeroShotReport, error) {
	kb := a.KB
	if a.Surrogates == nil {
		a.Surrogates = NewSurrogateCache()
	}
	all, err := kb.Datasets(ctx)
	if err != nil {
		return nil, err
	}
	rep := &ZeroShotReport{Families: map[string]*Tally{}}
	var gains []float64
	for _, d := range all {
		evals, err := kb.Evals(ctx, d.Key)
		if err != nil {
			return nil, err
		}
		byID := map[string]*Eval{}
		var fams []string
		for _, e := range evals {
			byID[e.ID] = e
			if !slices.Contains(fams, e.Family) {
				fams = append(fams, e.Family)
			}
		}
		a.Exclude = d.Key
		adv, err := a.adviseFeatures(ctx, d.Features, fams)
		if err != nil {
			return nil, err
		}
		row := ZeroShotRow{Name: filepath.Base(d.Name), Far: adv.Info.Far, Static: math.NaN(), Zero: math.NaN()}
		spread := map[string]float64{}
		unscored := false
		for _, fam := range fams {
			st, zero, ok := zeroShotPair(byID, fam, adv)
			if st == nil {
				continue
			}
			if rep.Families[fam] == nil {
				rep.Families[fam] = &Tally{}
			}
			if !ok {
				rep.Families[fam].Unscored++
				unscored = true
				continue
			}
			rep.Families[fam].add(zero.Score, st.Score, d.HigherIsBetter)
			if better(st.Score, row.Static, d.HigherIsBetter) {
				row.Static = st.Score
			}
			if better(zero.Score, row.Zero, d.HigherIsBetter) {
				row.Zero = zero.Score
			}
			spread[fam] = familySpread(evals, fam)
		}
		if math.IsNaN(row.Static) {
			if unscored {
				rep.Best.Unscored++
			}
			continue
		}
		if row.Far {
			rep.Far++
		}
		rep.Best.add(row.Zero, row.Static, d.HigherIsBetter)
		if s := maxOf(spread); s > 0 {
			g := (row.Zero - row.Static) / s
			if !d.HigherIsBetter {
				g = -g
			}
			gains = append(gains, g)
		}
		rep.Datasets = append(rep.Datasets, row)
	}
	for _, g := range gains {
		rep.MeanGain += g / float64(len(gains))
	}
	return rep, nil
}

// zeroShotPair returns family's static defaults' evaluation among byID
// (nil when there is none) and the zero-shot configuration's in adv (the
// static defaults' when adv has none: far, or nothing known), and false
// when the zero-shot configuration was never scored there.
func zeroShotPair(byID map[string]*Eval, family string, adv *pipeline.MetaAdvice) (static, zero *Eval, ok bool) {
	sid, _ := ConfigID(family, "", nil, pipeline.StaticParams(family))
	if static = byID[sid]; static == nil {
		return nil, nil, false
	}
	c, has := adv.Defaults[family]
	if !has || adv.Info.Far || adv.Info.Known == 0 {
		return static, static, true
	}
	zid, _ := ConfigID(family, "", nil, c.Params)
	zero = byID[zid]
	return static, zero, zero != nil
}

func better(v, than float64, higher bool) bool {
	return math.IsNaN(than) || (higher && v > than) || (!higher && v < than)
}

// familySpread is the range of family's scores on a dataset.
func familySpread(evals []*Eval, family string) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, e := range evals {
		if e.Family == family {
			lo, hi = math.Min(lo, e.Score), math.Max(hi, e.Score)
		}
	}
	return hi - lo
}

func maxOf(m map[string]float64) float64 {
	out := 0.0
	for _, v := range m {
		out = math.Max(out, v)
	}
	return out
}
