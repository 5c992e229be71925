package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/model"
)

// learnerKey is a learner's parameters as JSON ("" when they do not
// encode), to tell two spellings of one configuration apart.
func learnerKey(l model.Learner) string {
	b, err := json.Marshal(l)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%T%s", l, b)
}

// zeroShotChoice is a family's untuned configuration after CV checked the
// knowledge base's configurations against the static defaults.
type zeroShotChoice struct {
	params  json.RawMessage
	learner model.Learner
	cv      *cvResult
	// label says which it is (Entry.ZeroShot).
	label string
	// checked are the labels of every configuration the check
	// cross-validated, this one included (Entry.ZeroShotChecked).
	checked []string
}

// zeroShotChecks is how many of family's knowledge-base configurations,
// best first, zero-shot meta-learning cross-validates beside the static
// defaults on a task. gbdt checks three on classification tasks: its
// best configuration varies most from table to table, and the nearest
// datasets' first choice is one guess among several good ones. On the
// meta corpus (gbdt alone, 3,000-row samples, leave-one-dataset-out)
// three against one won 13, tied 19 and lost 5 binary datasets (mean AUC
// +0.005) and won 6, tied 13 and lost 3 multiclass ones (log-loss
// −0.005), but won 12, tied 15 and lost 10 regression datasets (mean R²
// −0.002): a mean of fold R² on a few hundred rows is too noisy to choose
// among more configurations by (docs/quality-selection.md).
func zeroShotChecks(family string, task model.Task) int {
	if family == "gbdt" && task.IsClassification() {
		return 3
	}
	return 1
}

// zeroShotAlternatives are the configurations after the first that
// zero-shot meta-learning cross-validates for family on task: the next of
// starts (the knowledge base's, best first) whose parameters differ from
// def's and from each other, at most zeroShotChecks(family, task)−1.
func zeroShotAlternatives(family string, task model.Task, def MetaConfig, starts []MetaConfig) []MetaConfig {
	var out []MetaConfig
	seen := []map[string]any{def.Params}
	for _, c := range starts {
		if len(out) == zeroShotChecks(family, task)-1 {
			break
		}
		if slices.ContainsFunc(seen, func(p map[string]any) bool { return reflect.DeepEqual(p, c.Params) }) {
			continue
		}
		seen = append(seen, c.Params)
		out = append(out, c)
	}
	return out
}

// chooseZeroShot runs when zero-shot meta-learning gave family name the
// configuration of near datasets (params, learner): it cross-validates
// that, the family's alternatives (p.metaAlternatives) and the static
// defaults and keeps the best, the earlier on a tie. A neighbour's best
// configuration is a guess (on the corpus it beat the static defaults on
// two datasets of three); a CV per configuration turns the guesses into a
// choice that is never worse in CV. Nil when there is nothing to choose.
func chooseZeroShot(ctx context.Context, cfg *config.Config, o Options, p *prepared, fam model.Family, name string,
	params json.RawMessage, learner model.Learner, spec features.DesignSpec, workers int) (*zeroShotChoice, error) {
	if p.static == nil || len(p.folds) == 0 || cfg.EnableHyperparameterTuning {
		return nil, nil
	}
	staticMP := familyParams(p.static, name, p.task, len(p.train))
	if reflect.DeepEqual(staticMP, familyParams(cfg, name, p.task, len(p.train))) {
		return nil, nil
	}
	static, err := p.zeroShotLearner(fam, name, p.static, staticMP)
	if err != nil {
		return nil, err
	}
	if a, b := learnerKey(static.learner), learnerKey(learner); a != "" && a == b {
		return nil, nil // the same learner, spelled differently
	}
	choices := []*zeroShotChoice{{params: params, learner: learner, label: zeroShotKB}}
	seen := []string{learnerKey(learner), learnerKey(static.learner)}
	for i, alt := range p.metaAlternatives[name] {
		c := zeroShotConfig(p.static, map[string]MetaConfig{name: alt})
		ch, err := p.zeroShotLearner(fam, name, c, familyParams(c, name, p.task, len(p.train)))
		if err != nil {
			// A knowledge base (a user's own, imported) may hold a
			// configuration this build's learner refuses: the others
			// still decide.
			o.Logger.Warn("zero-shot alternative skipped", "model", name, "err", err)
			continue
		}
		if k := learnerKey(ch.learner); k == "" || !slices.Contains(seen, k) {
			seen = append(seen, k)
			ch.label = zeroShotAlternative + strconv.Itoa(i+1)
			choices = append(choices, ch)
		}
	}
	static.label = zeroShotStatic
	choices = append(choices, static)
	metric := PrimaryMetric(p.task)
	scores := make([]float64, len(choices))
	best := 0
	for i, c := range choices {
		if c.cv, err = crossValidate(ctx, c.learner, spec, p, workers, nil); err != nil {
			return nil, err
		}
		scores[i] = meanOf(c.cv.folds, metric)
		if i > 0 && betterScore(metric, scores[i], scores[best]) {
			best = i
		}
	}
	for _, c := range choices {
		choices[best].checked = append(choices[best].checked, c.label)
	}
	o.Logger.Info("zero-shot configurations checked", "model", name, "cv_"+metric, scores, "kept", choices[best].label)
	return choices[best], nil
}

// Entry.ZeroShot's labels: alternatives are numbered from 1 in
// p.metaAlternatives' order.
const (
	zeroShotKB          = "knowledge base"
	zeroShotAlternative = "knowledge base alternative "
	zeroShotStatic      = "static defaults"
)

// betterScore reports whether CV score v beats w under metric; a NaN
// beats nothing and loses to any number.
func betterScore(metric string, v, w float64) bool {
	switch {
	case math.IsNaN(v):
		return false
	case math.IsNaN(w):
		return true
	case eval.Higher(metric):
		return v > w
	}
	return v < w
}

// zeroShotLearner is family name's learner under cfg, whose parameters
// for it are mp.
func (p *prepared) zeroShotLearner(fam model.Family, name string, cfg *config.Config, mp map[string]any) (*zeroShotChoice, error) {
	var params json.RawMessage
	if mp != nil {
		var err error
		if params, err = json.Marshal(mp); err != nil {
			return nil, fmt.Errorf("model_params %s: %w", name, err)
		}
	}
	l, err := fam.New(p.task, cfg.Seed, params)
	if err != nil {
		return nil, err
	}
	return &zeroShotChoice{params: params, learner: l}, nil
}

// withoutAlternatives returns a copy of p whose family checks no
// alternatives.
func (p *prepared) withoutAlternatives(family string) *prepared {
	q := *p
	q.metaAlternatives = maps.Clone(p.metaAlternatives)
	delete(q.metaAlternatives, family)
	return &q
}
