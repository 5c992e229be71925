package meta

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/gbdt"
	"github.com/tabforge/tabforge/pipeline"
)

// Surrogate predicts how well a configuration of one family does on a
// dataset, from the dataset's meta-features and the configuration's
// parameters: a small gradient-boosted model fitted on the knowledge
// base, whose target is a configuration's normalised rank among the
// family's evaluations on the same dataset (1 the best, 0 the worst).
// Ranks, not scores, so that datasets with different metrics and
// different spreads of scores weigh alike; the model learns which
// parameters suit which kind of data, across all known datasets at once,
// where the nearest datasets alone hold a handful of evaluations each.
type Surrogate struct {
	Family string
	// Datasets and Rows count what it was fitted on; Key is the hash of
	// that data (see SurrogateCache).
	Datasets, Rows int
	Key            string
	params         []paramColumn
	model          model.Model
	// overall holds per configuration id the sum and count of its
	// outcomes against the static defaults (see Overall).
	overall map[string][2]float64
}

// paramColumn encodes one parameter: its numeric value, and for a
// parameter that also takes names (max_features "sqrt" or 0.5) the index
// of the name among Levels. A configuration without it is missing (NaN),
// which the model routes like the learner's own default.
type paramColumn struct {
	Name   string
	Levels []string
}

// surrogateMinDatasets is the fewest datasets with at least two
// evaluations of a family a surrogate is fitted on; with fewer, ranking
// falls back to the neighbours' own scores.
const surrogateMinDatasets = 5

// surrogateParams are the model's hyperparameters: small and heavily
// regularised, since a knowledge base holds a few thousand rows at most
// and the target is noisy. Fixed seed: the same knowledge base gives the
// same surrogate.
var surrogateParams = gbdt.Params{NEstimators: 150, LearningRate: 0.05, MaxDepth: 4, MinChildWeight: 5,
	Subsample: 0.8, ColsampleBytree: 0.8, Lambda: 5, Seed: 7}

// FitSurrogate fits family's surrogate on the evaluations of datasets
// (evals by dataset key). Only basic-feature evaluations count, and a
// dataset with fewer than two of them says nothing about ranks. It
// returns nil and no error when too few datasets qualify.
func FitSurrogate(ctx context.Context, family string, datasets []*Dataset, evals map[string][]*Eval) (*Surrogate, error) {
	type group struct {
		d     *Dataset
		evals []*Eval
	}
	var groups []group
	for _, d := range datasets {
		if es := familyEvals(evals[d.Key], family); len(es) >= 2 {
			groups = append(groups, group{d, es})
		}
	}
	if len(groups) < surrogateMinDatasets {
		return nil, nil
	}
	s := &Surrogate{Family: family, Datasets: len(groups), Key: surrogateKey(family, datasets, evals)}
	var all []*Eval
	for _, g := range groups {
		all = append(all, g.evals...)
	}
	s.params = paramColumns(all)
	width := s.width()
	x := model.NewMatrix(len(all), width)
	y := make([]float64, 0, len(all))
	row := 0
	for _, g := range groups {
		ranks := normalisedRanks(g.evals, g.d.HigherIsBetter)
		for i, e := range g.evals {
			s.encode(x.Row(row), g.d.Features, e.Params)
			y = append(y, ranks[i])
			row++
		}
	}
	s.Rows = row
	s.overall = map[string][2]float64{}
	static, _ := ConfigID(family, "", nil, pipeline.StaticParams(family))
	for _, g := range groups {
		i := slices.IndexFunc(g.evals, func(e *Eval) bool { return e.ID == static })
		if i < 0 {
			continue
		}
		st := g.evals[i].Score
		for _, e := range g.evals {
			v := 0.5
			if e.Score != st {
				v = b2f(better(e.Score, st, g.d.HigherIsBetter))
			}
			o := s.overall[e.ID]
			s.overall[e.ID] = [2]float64{o[0] + v, o[1] + 1}
		}
	}
	m, err := surrogateParams.Fit(ctx, &model.Dataset{X: x, Y: y, Task: model.Regression}, model.FitOptions{Workers: 1})
	if err != nil {
		return nil, fmt.Errorf("meta: surrogate %s: %w", family, err)
	}
	s.model = m
	return s, nil
}

// Predict returns the predicted normalised rank of each configuration
// (parameters of the surrogate's family) on a dataset with meta-features
// f: higher is better.
func (s *Surrogate) Predict(f *Features, configs []map[string]any) ([]float64, error) {
	out := make([]float64, len(configs))
	if len(configs) == 0 {
		return out, nil
	}
	x := model.NewMatrix(len(configs), s.width())
	for i, p := range configs {
		s.encode(x.Row(i), f, p)
	}
	if err := s.model.Predict(out, x); err != nil {
		return nil, fmt.Errorf("meta: surrogate %s: %w", s.Family, err)
	}
	return out, nil
}

// Overall is a configuration's record against the family's static
// defaults over the datasets the surrogate was fitted on that ran both
// (1 a win, 0.5 a tie, 0 a loss), shrunk towards 0.5 as if it had tied
// on overallPrior more: a configuration that beats the defaults nearly
// everywhere is a robust choice (auto-sklearn 2's portfolio), one seen
// once is barely evidence. It is what a zero-shot configuration must do:
// training keeps it only if it beats the static defaults in CV.
func (s *Surrogate) Overall(id string) float64 {
	o := s.overall[id]
	return (o[0] + 0.5*overallPrior) / (o[1] + overallPrior)
}

// overallPrior is the weight of Overall's prior, in datasets.
const overallPrior = 3

// width is the number of model columns: the task, every catalogue
// meta-feature, then two per parameter (value and level).
func (s *Surrogate) width() int { return 1 + len(catalogueNames) + 2*len(s.params) }

var catalogueNames = func() []string {
	var out []string
	for _, sp := range Catalogue() {
		out = append(out, sp.Name)
	}
	return out
}()

// encode writes one row: meta-features on their distance scale
// (monotone, so only the missing ones matter to trees) and parameters.
func (s *Surrogate) encode(dst []float64, f *Features, params map[string]any) {
	for i := range dst {
		dst[i] = math.NaN()
	}
	dst[0] = taskCode(f.Task)
	for i, sp := range Catalogue() {
		if v, ok := f.Values[sp.Name]; ok && !math.IsNaN(v) {
			dst[1+i] = sp.transform.apply(v)
		}
	}
	base := 1 + len(catalogueNames)
	for i, c := range s.params {
		v, ok := params[c.Name]
		if !ok {
			continue
		}
		if n, ok := number(v); ok {
			dst[base+2*i] = n
		} else if k := slices.Index(c.Levels, fmt.Sprint(v)); k >= 0 {
			dst[base+2*i+1] = float64(k)
		}
	}
}

func taskCode(t model.Task) float64 {
	switch t {
	case model.Binary:
		return 1
	case model.Multiclass:
		return 2
	}
	return 0
}

// number reads a JSON parameter value as a number; booleans are 0 and 1.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case bool:
		if n {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// paramColumns lists the parameters of evals in name order, with the
// names each takes.
func paramColumns(evals []*Eval) []paramColumn {
	levels := map[string]map[string]bool{}
	for _, e := range evals {
		for k, v := range e.Params {
			if levels[k] == nil {
				levels[k] = map[string]bool{}
			}
			if _, ok := number(v); !ok && v != nil {
				levels[k][fmt.Sprint(v)] = true
			}
		}
	}
	var out []paramColumn
	for _, k := range sortedKeys(levels) {
		out = append(out, paramColumn{Name: k, Levels: sortedKeys(levels[k])})
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// familyEvals are the basic-feature, non-ensemble evaluations of family
// with a finite score.
func familyEvals(evals []*Eval, family string) []*Eval {
	var out []*Eval
	for _, e := range evals {
		if e.Family == family && e.Variant == "" && e.Source != pipeline.SourceEnsemble && !math.IsNaN(e.Score) && !math.IsInf(e.Score, 0) {
			out = append(out, e)
		}
	}
	return out
}

// normalisedRanks maps each evaluation to its rank among evals scaled to
// [0, 1], 1 the best; ties share their mean rank.
func normalisedRanks(evals []*Eval, higher bool) []float64 {
	n := len(evals)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return evals[idx[a]].Score < evals[idx[b]].Score })
	out := make([]float64, n)
	for i := 0; i < n; {
		j := i
		for j+1 < n && evals[idx[j+1]].Score == evals[idx[i]].Score {
			j++
		}
		r := float64(i+j) / 2 / float64(max(1, n-1)) // ascending score
		for k := i; k <= j; k++ {
			out[idx[k]] = r
			if !higher {
				out[idx[k]] = 1 - r
			}
		}
		i = j + 1
	}
	return out
}

// surrogateKey hashes what a surrogate of family would be fitted on: the
// datasets' keys and their evaluations' ids and scores. A knowledge base
// that grew (a run recorded its trials) has another key.
func surrogateKey(family string, datasets []*Dataset, evals map[string][]*Eval) string {
	h := sha256.New()
	h.Write([]byte(family))
	var b [8]byte
	for _, d := range datasets {
		es := familyEvals(evals[d.Key], family)
		if len(es) < 2 {
			continue
		}
		h.Write([]byte("\x00" + d.Key))
		for _, e := range es {
			h.Write([]byte("\x01" + e.ID))
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(e.Score))
			h.Write(b[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
