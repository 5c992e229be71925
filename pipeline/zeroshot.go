package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

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
// knowledge base's configuration against the static defaults.
type zeroShotChoice struct {
	params  json.RawMessage
	learner model.Learner
	cv      *cvResult
}

// chooseZeroShot runs when zero-shot meta-learning gave family name the
// configuration of near datasets (params, learner): it cross-validates
// that and the static defaults and keeps the better. A neighbour's best
// configuration is a guess (on the corpus it beat the static defaults on
// two datasets of three); one more CV per family turns the guess into a
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
	var staticParams json.RawMessage
	if staticMP != nil {
		var err error
		if staticParams, err = json.Marshal(staticMP); err != nil {
			return nil, fmt.Errorf("model_params %s: %w", name, err)
		}
	}
	staticL, err := fam.New(p.task, cfg.Seed, staticParams)
	if err != nil {
		return nil, err
	}
	if a, b := learnerKey(staticL), learnerKey(learner); a != "" && a == b {
		return nil, nil // the same learner, spelled differently
	}
	zs, err := crossValidate(ctx, learner, spec, p, workers, nil)
	if err != nil {
		return nil, err
	}
	st, err := crossValidate(ctx, staticL, spec, p, workers, nil)
	if err != nil {
		return nil, err
	}
	metric := PrimaryMetric(p.task)
	a, b := meanOf(zs.folds, metric), meanOf(st.folds, metric)
	o.Logger.Info("zero-shot configuration checked", "model", name, "cv_"+metric+"_knowledge_base", a, "cv_"+metric+"_static", b)
	if eval.Higher(metric) == (a >= b) {
		return &zeroShotChoice{params: params, learner: learner, cv: zs}, nil
	}
	return &zeroShotChoice{params: staticParams, learner: staticL, cv: st}, nil
}
