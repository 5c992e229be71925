package pipeline

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/report"
)

// A MetaAdvisor is the meta-learner as training sees it: given the
// run's training table it says which known datasets are near and which
// configuration of each family did well on them. Package meta implements
// it over its knowledge base. The pipeline consults it when the config's
// meta_learning is on; an error is a warning and the run starts cold.
type MetaAdvisor interface {
	AdviseRun(ctx context.Context, q MetaQuery) (*MetaAdvice, error)
}

// MetaQuery describes the run asking for advice.
type MetaQuery struct {
	Table   *TrainingTable
	Dataset string // content hash of the data file
	Target  string
	// Split identifies the run's training rows (SplitID): a knowledge
	// base's evaluations of the same file count only when recorded on the
	// same split, since another split's CV folds held this run's test
	// rows. "" is no split known: every evaluation of the file is unsafe.
	Split string
	// Families are the run's candidate families.
	Families []string
}

// MetaAdvice is what the knowledge base says about a run's data.
type MetaAdvice struct {
	// Info describes the advice for Result.Meta; the pipeline fills in
	// Mode, Fallback and Tried.
	Info MetaInfo
	// Defaults are per family the configuration to train with untuned
	// (zero-shot): the one that did best on the nearest datasets.
	Defaults map[string]MetaConfig
	// Starts are per family the configurations a tuning study tries
	// first (warm start), best first, de-duplicated.
	Starts map[string][]MetaConfig
}

// MetaConfig is a configuration from the knowledge base.
type MetaConfig struct {
	Params map[string]any `json:"params"`
	// From names the known dataset it did well on; Distance is that
	// dataset's distance to the run's data.
	From     string  `json:"from"`
	Distance float64 `json:"distance"`
}

// Meta-learning modes of MetaInfo.
const (
	MetaZeroShot  = "zero-shot"  // untuned families train with the nearest datasets' best configurations
	MetaWarmStart = "warm-start" // tuning studies try those configurations first
	MetaColdStart = "cold-start" // static defaults and a cold tuning start
)

// MetaInfo is what meta-learning did in a run (Result.Meta).
type MetaInfo struct {
	Mode string `json:"mode"`
	// Fallback says why a run with meta_learning on started cold.
	Fallback string `json:"fallback,omitempty"`
	// Known counts the known datasets of the task; Neighbours are the
	// nearest, nearest first.
	Known      int            `json:"known"`
	Neighbours []MetaNeighbor `json:"neighbours,omitempty"`
	// Far is true when the nearest known dataset is farther than
	// Threshold (Rule says how it was set).
	Far       bool    `json:"far"`
	Nearest   float64 `json:"nearest,omitempty"`
	Threshold float64 `json:"threshold,omitempty"`
	Rule      string  `json:"rule,omitempty"`
	// Tried are the configurations taken from the knowledge base.
	Tried []MetaTried `json:"tried,omitempty"`
	// Seconds is the time meta-learning took (meta-features and lookup).
	Seconds float64 `json:"seconds"`
}

// MetaNeighbor is a known dataset near the run's data.
type MetaNeighbor struct {
	Name     string  `json:"name"`
	Distance float64 `json:"distance"`
}

// MetaTried is one configuration taken from the knowledge base: as a
// family's untuned configuration (Use "default"), as one cross-validated
// beside it (Use "alternative", see zeroShotChecks) or as a tuning
// study's first trials (Use "start").
type MetaTried struct {
	Family string `json:"family"`
	Use    string `json:"use"`
	MetaConfig
	// Study and Trial locate a start in its tuning study (trials are
	// numbered from 0); Rank is its place among the study's Trials
	// completed trials by CV score (1 the best, 0 when it did not
	// complete).
	Study  string `json:"study,omitempty"`
	Trial  int    `json:"trial,omitempty"`
	Rank   int    `json:"rank,omitempty"`
	Trials int    `json:"trials,omitempty"`
}

// StaticParams are the parameters family trains with untuned when no
// knowledge base is used, before model_params: what meta_learning=false
// gives and what a dataset far from every known one falls back to. The
// defaults that depend on the table's size (familyDefaults with rows) are
// not among them: they apply beneath any configuration.
func StaticParams(family string) map[string]any { return familyDefaults(family, 0) }

// metaLearn consults Options.Meta when meta_learning is on: near known
// datasets give untuned families their configurations (zero-shot) or
// tuning studies their first trials (warm start); far from every known
// dataset, or without a knowledge base, the run starts cold and says why.
func (r *trainRun) metaLearn(ctx context.Context) error {
	if !r.cfg.MetaLearning {
		return nil
	}
	info := &MetaInfo{Mode: MetaColdStart}
	r.res.Meta = info
	if r.o.Meta == nil {
		info.Fallback = "no knowledge base"
		r.log.Info("meta-learning: cold start", "reason", info.Fallback)
		return nil
	}
	names, _, err := candidates(r.cfg, r.o.Families, r.p.task)
	if err != nil {
		return nil // the candidates stage reports it
	}
	t0 := time.Now()
	// The training rows only: meta-features include landmarkers scored on
	// the targets, and the test rows' targets must not pick the
	// configuration the test rows then judge.
	adv, err := r.o.Meta.AdviseRun(ctx, MetaQuery{Table: r.p.trainingPart(), Dataset: r.res.DatasetHash, Target: r.cfg.Target,
		Split: r.p.splitID(), Families: names})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		info.Fallback = fmt.Sprintf("knowledge base failed: %v", err)
		r.warn("meta-learning: " + info.Fallback + "; starting cold")
		return nil
	}
	*info = adv.Info
	info.Mode, info.Seconds = MetaColdStart, round(since(t0), 3)
	switch {
	case info.Known == 0:
		info.Fallback = fmt.Sprintf("no known %s dataset", r.p.task)
	case info.Far:
		info.Fallback = fmt.Sprintf("far from known datasets: nearest distance %.3f > threshold %.3f", info.Nearest, info.Threshold)
	case r.cfg.EnableHyperparameterTuning:
		info.Mode = MetaWarmStart
		r.metaStarts = &metaStarts{starts: adv.Starts, maxEvals: r.cfg.MaxEvals}
		r.o.Starts = metaAfter{base: orBasic(r.o.Starts), meta: r.metaStarts}
	default:
		info.Mode = MetaZeroShot
		r.p.static = r.cfg
		r.cfg = zeroShotConfig(r.cfg, adv.Defaults)
		r.p.metaAlternatives = map[string][]MetaConfig{}
		for _, f := range slices.Sorted(maps.Keys(adv.Defaults)) {
			info.Tried = append(info.Tried, MetaTried{Family: f, Use: "default", MetaConfig: adv.Defaults[f]})
			alts := zeroShotAlternatives(f, r.p.task, adv.Defaults[f], adv.Starts[f])
			for _, c := range alts {
				info.Tried = append(info.Tried, MetaTried{Family: f, Use: "alternative", MetaConfig: c})
			}
			r.p.metaAlternatives[f] = alts
		}
	}
	if info.Mode == MetaColdStart {
		r.log.Info("meta-learning: cold start", "reason", info.Fallback)
	} else {
		r.log.Info("meta-learning: "+info.Mode, "nearest", round(info.Nearest, 3), "threshold", round(info.Threshold, 3), "families", max(len(adv.Starts), len(info.Tried)))
	}
	return nil
}

func orBasic(s StartSource) StartSource {
	if s == nil {
		return BasicVariantStarts{}
	}
	return s
}

// zeroShotConfig returns a copy of cfg whose model_params give each
// family in defaults that configuration in place of its static defaults
// (a static default key the configuration lacks is set to null, the
// learner's own default, unless it is one of procedureParams); the user's
// model_params still win key by key.
func zeroShotConfig(cfg *config.Config, defaults map[string]MetaConfig) *config.Config {
	if len(defaults) == 0 {
		return cfg
	}
	out := cfg.Clone()
	if out.ModelParams == nil {
		out.ModelParams = map[string]map[string]any{}
	}
	for fam, c := range defaults {
		mp := map[string]any{}
		for k := range StaticParams(fam) {
			mp[k] = nil
		}
		maps.Copy(mp, procedureParams(fam))
		maps.Copy(mp, c.Params)
		maps.Copy(mp, cfg.ModelParams[fam])
		out.ModelParams[fam] = mp
	}
	return out
}

// metaStarts is the StartSource of a warm start: a family's
// configurations from the knowledge base, in the study's space, at most
// a sixth of the trial budget (and at least one), de-duplicated. A sixth,
// not a third: on 8 narrow corpus tables with 20 trials (meta eval), 3
// starts then TPE reached cold TPE's final best on 8 of 8, 6 starts on 6
// of 8; TPE learns from the starts and does better than more of them. It
// keeps the basic-feature studies' starts with their trial numbers for
// the run's MetaInfo.Tried (see metaOutcomes).
type metaStarts struct {
	starts   map[string][]MetaConfig
	maxEvals int
	mu       sync.Mutex
	tried    []MetaTried // Study and Trial set, Rank not yet
}

// metaAfter tries base's starts, then meta's: the trial numbers of
// meta's follow base's.
type metaAfter struct {
	base StartSource
	meta *metaStarts
}

// Starts implements StartSource.
func (m metaAfter) Starts(ctx context.Context, q StartQuery) ([]Start, error) {
	out, err := m.base.Starts(ctx, q)
	if err != nil {
		return nil, err
	}
	return append(out, m.meta.next(q, len(out))...), nil
}

// next returns the family's starts for the study asking, whose earlier
// starts number first trials.
func (m *metaStarts) next(q StartQuery, first int) []Start {
	if q.Sampler != "tpe" {
		return nil
	}
	// The study's own budget, not max_evals: a family's trials are capped
	// per tuned parameter (trialsPerParam), and a sixth of max_evals gave
	// research's 10-trial logistic and ridge studies 4 starts of 10 and
	// its 80-trial gbdt study 16.
	budget := q.Trials
	if budget == 0 || (m.maxEvals > 0 && m.maxEvals < budget) {
		budget = m.maxEvals
	}
	limit := max(1, budget/6)
	var out []Start
	seen := map[string]bool{}
	for _, c := range m.starts[q.Family] {
		if len(out) == limit {
			break
		}
		params := unsetDefaults(q.Family, q.Task)
		maps.Copy(params, c.Params)
		vals, dists, ok := q.Space.Encode(params)
		if !ok {
			continue
		}
		key := fmt.Sprint(vals)
		if seen[key] {
			continue
		}
		seen[key] = true
		if q.Variant == "" {
			m.mu.Lock()
			m.tried = append(m.tried, MetaTried{Family: q.Family, Use: "start", MetaConfig: c, Study: q.BasicStudy, Trial: first + len(out)})
			m.mu.Unlock()
		}
		out = append(out, Start{Params: vals, Distributions: dists, From: fmt.Sprintf("meta:%s (distance %.3f)", c.From, c.Distance), Informed: true})
	}
	return out
}

// metaOutcomes ranks each warm start among its study's completed trials
// for MetaInfo.Tried, after tuning.
func (r *trainRun) metaOutcomes(context.Context) error {
	if r.metaStarts == nil || r.res.Meta == nil {
		return nil
	}
	r.metaStarts.mu.Lock()
	tried := slices.Clone(r.metaStarts.tried)
	r.metaStarts.mu.Unlock()
	byStudy := map[string][]Evaluation{}
	for _, e := range r.p.memo.loggedTrials() {
		byStudy[e.Study] = append(byStudy[e.Study], e)
	}
	higher := eval.Higher(PrimaryMetric(r.p.task))
	for i, t := range tried {
		trials := byStudy[t.Study]
		tried[i].Trials = len(trials)
		k := slices.IndexFunc(trials, func(e Evaluation) bool { return e.Trial == t.Trial })
		if k < 0 {
			continue
		}
		tried[i].Rank = 1
		for _, e := range trials {
			if (higher && e.Score > trials[k].Score) || (!higher && e.Score < trials[k].Score) {
				tried[i].Rank++
			}
		}
	}
	sort.SliceStable(tried, func(i, j int) bool {
		if tried[i].Family != tried[j].Family {
			return tried[i].Family < tried[j].Family
		}
		return tried[i].Trial < tried[j].Trial
	})
	r.res.Meta.Tried = tried
	return nil
}

var _ StartSource = metaAfter{}

// unsetDefaults are the values the learners document for their zero
// values (gbdt.Params, forest.Params), for the tuned parameters a
// configuration may leave unset: a warm start then reproduces the known
// configuration instead of letting the sampler draw what it left out.
// Encode clamps a value outside the space (alpha 0 to its low end).
func unsetDefaults(family string, task model.Task) map[string]any {
	switch family {
	case "gbdt":
		return map[string]any{"max_depth": 6, "min_child_weight": 1.0, "subsample": 1.0, "colsample_bytree": 1.0, "lambda": 1.0, "alpha": 0.0}
	case "forest":
		mf := "all"
		if task.IsClassification() {
			mf = "sqrt"
		}
		return map[string]any{"min_samples_leaf": 1, "max_features": mf}
	}
	return map[string]any{}
}

// metaReport is the report's view of res.Meta, each configuration with
// how it fared: an untuned default by its candidate's place on the
// leaderboard, warm starts by the trials their study ran after them.
func metaReport(res *Result) *report.Meta {
	m := res.Meta
	if m == nil {
		return nil
	}
	out := &report.Meta{Mode: m.Mode, Fallback: m.Fallback, Known: m.Known, Nearest: m.Nearest, Threshold: m.Threshold, Rule: m.Rule}
	for _, n := range m.Neighbours {
		out.Neighbours = append(out.Neighbours, report.MetaNeighbor{Name: n.Name, Distance: n.Distance})
	}
	tuning := map[string]*TuningInfo{}
	for _, e := range res.Leaderboard {
		if e.Tuning != nil {
			tuning[e.Model] = e.Tuning
		}
	}
	alternatives := map[string]int{}
	for _, t := range m.Tried {
		outcome := ""
		switch {
		case t.Use == "alternative":
			alternatives[t.Family]++
			outcome = zeroShotOutcome(res.Leaderboard, t.Family, zeroShotAlternative+strconv.Itoa(alternatives[t.Family]))
		case t.Use == "default":
			outcome = zeroShotOutcome(res.Leaderboard, t.Family, zeroShotKB)
		case t.Use == "start" && t.Rank > 0:
			outcome = fmt.Sprintf("trial %d, ranked %d of %d trials", t.Trial+1, t.Rank, t.Trials)
		case t.Use == "start":
			outcome = fmt.Sprintf("trial %d, did not complete", t.Trial+1)
		}
		out.Tried = append(out.Tried, report.MetaTried{Family: t.Family, Use: t.Use, From: t.From, Distance: t.Distance, Params: t.Params, Outcome: outcome})
	}
	return out
}

// zeroShotOutcome says how the knowledge base's configuration labelled
// label (see Entry.ZeroShot) fared among family's candidates (one per
// feature variant, each checked on its own): which kept it and the best
// of their places on lb, that CV kept another, or that no candidate
// cross-validated it (an alternative skipped to keep the time budget, or
// refused by the learner; Entry.ZeroShotChecked). A candidate that ran
// no check (its configuration was the static defaults) trained with the
// knowledge base's first.
func zeroShotOutcome(lb []Entry, family, label string) string {
	var kept []string
	place, ran, checked := 0, false, false
	for i, e := range lb {
		if e.Error != "" || (e.Model != family && !strings.HasPrefix(e.Model, family+"+")) {
			continue
		}
		if e.ZeroShot != "" {
			ran = true
			checked = checked || slices.Contains(e.ZeroShotChecked, label)
		}
		if e.ZeroShot == label || (e.ZeroShot == "" && label == zeroShotKB) {
			kept = append(kept, e.Model)
			if place == 0 {
				place = i + 1
			}
		}
	}
	switch {
	case len(kept) > 0:
		return fmt.Sprintf("kept by %s, leaderboard place %d of %d", strings.Join(kept, ", "), place, len(lb))
	case checked:
		return "cross-validated, not kept"
	case ran:
		return "not cross-validated (skipped to keep the time budget, or refused by the learner)"
	}
	return ""
}
