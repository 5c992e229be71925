package pipeline

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/tune"
)

// CheckModelParams checks cfg's model_params for the families the run
// trains (cfg.Models) against reg before any data is read, so that a bad
// entry is a config error rather than a family failing late (or, under
// tuning, every trial failing): the family must accept its untuned
// parameters, and under tuning with CV a search (a range or candidate
// values, see tune.Space.Override) must fit the family's search space
// and the family must accept each end of a range and each candidate.
// Without tuning a search is not used (the run warns; see
// ignoredSearches). With task auto the task is not known yet, so an
// entry is refused only if no task of the family takes it. Names that
// are no family are config.CheckModelParams' concern; entries of
// families the run does not train are not checked. A nil reg means
// Families().
func CheckModelParams(cfg *config.Config, reg *model.Registry) error {
	if reg == nil {
		reg = Families()
	}
	var errs []error
	trained := expandModels(cfg.Models)
	for _, name := range slices.Sorted(maps.Keys(cfg.ModelParams)) {
		fam, err := reg.Lookup(name)
		if err != nil || !slices.Contains(trained, name) {
			continue
		}
		var first error
		ok, most := false, -1
		for _, task := range fam.Tasks {
			if cfg.Task != config.TaskAuto && string(cfg.Task) != string(task) {
				continue
			}
			err := checkFamilyParams(cfg, fam, name, task)
			if err == nil {
				ok = true
				break
			}
			// With task auto, report the error of the task whose search
			// space takes the most entries as searches: {criterion:
			// [gini, bogus]} is a search for classification, and
			// regression's "cannot unmarshal array" hid the bad candidate.
			if n := searchCount(cfg.ModelParams[name], tune.SpaceFor(name, task)); n > most {
				first, most = err, n
			}
		}
		if !ok && first != nil {
			if !strings.HasPrefix(first.Error(), name+": ") { // the family's own errors name it
				first = fmt.Errorf("%s: %w", name, first)
			}
			errs = append(errs, &config.KeyError{Key: "model_params", Err: first})
		}
	}
	return errors.Join(errs...)
}

// searchCount is the number of entries of mp that space searches.
func searchCount(mp map[string]any, space tune.Space) int {
	n := 0
	for k, v := range mp {
		if space.Searches(k, v) {
			n++
		}
	}
	return n
}

// checkFamilyParams checks the model_params of family name for one task.
func checkFamilyParams(cfg *config.Config, fam model.Family, name string, task model.Task) error {
	mp := cfg.ModelParams[name]
	base := tune.SpaceFor(name, task)
	untuned := familyParams(cfg, name, task, 1)
	if _, err := trialLearner(fam, task, cfg.Seed, untuned); err != nil {
		return err
	}
	var searches []string
	for _, k := range slices.Sorted(maps.Keys(mp)) {
		if base.Searches(k, mp[k]) {
			searches = append(searches, k)
		}
	}
	if len(searches) == 0 {
		return nil
	}
	if !cfg.EnableHyperparameterTuning || cfg.CVFolds == 0 {
		return nil // not searched: the run trains the default and warns
	}
	if len(base.Names()) == 0 {
		return fmt.Errorf("%s: a search range or list of candidates needs a family with a search space", searches[0])
	}
	space, err := base.Override(mp)
	if err != nil {
		return err
	}
	for _, k := range searches {
		for _, v := range searchValues(space, k) {
			params := maps.Clone(untuned)
			params[k] = v
			if _, err := trialLearner(fam, task, cfg.Seed, params); err != nil {
				return fmt.Errorf("%s = %v: %w", k, v, err)
			}
		}
	}
	return nil
}

// searchValues are the values of the search for parameter name in space
// a learner must accept: the ends of a range, every candidate of a list.
func searchValues(space tune.Space, name string) []any {
	var out []any
	for _, p := range space.Params {
		if p.Name != name || p.Fixed != nil || p.Hidden { // hidden: no learner parameter
			continue
		}
		d := p.Dist
		switch {
		case p.Values != nil:
			out = append(out, p.Values...)
		case d.Kind == tune.Categorical:
			for _, c := range d.Choices {
				out = append(out, c)
			}
		default:
			out = append(out, d.External(d.Low), d.External(d.High))
		}
	}
	return out
}

// ignoredSearches warns of the model_params searches (ranges, candidate
// lists) of the trained families names that this run does not use: only
// tuning with CV folds searches; otherwise a family trains with the
// parameter's default.
func ignoredSearches(cfg *config.Config, names []string, task model.Task, folds int) []string {
	if cfg.EnableHyperparameterTuning && folds > 0 {
		return nil
	}
	var out []string
	for _, name := range names {
		base := tune.SpaceFor(name, task)
		mp := cfg.ModelParams[name]
		for _, k := range slices.Sorted(maps.Keys(mp)) {
			if base.Searches(k, mp[k]) {
				out = append(out, fmt.Sprintf("model_params: %s.%s is a search, which only tuning with CV folds uses; %s trains with its default %s", name, k, name, k))
			}
		}
	}
	return out
}

// unusedModelParams warns, in one line for all of them, of the
// model_params of families that models leaves out of the run: a profile
// or a shared config file may set them for every family, so they are no
// error, but whoever set gbdt's and trains ridge alone should hear that
// they went unused. Names that are no family are config.CheckModelParams'
// errors, not warnings.
func unusedModelParams(cfg *config.Config, families *model.Registry) []string {
	trained := expandModels(cfg.Models)
	var unused []string
	for _, name := range slices.Sorted(maps.Keys(cfg.ModelParams)) {
		if _, err := families.Lookup(name); err == nil && !slices.Contains(trained, name) {
			unused = append(unused, name)
		}
	}
	if len(unused) == 0 {
		return nil
	}
	models := strings.Join(cfg.Models, ",")
	if models == "" {
		models = "default: every family but extra_trees"
	}
	if len(unused) == 1 {
		return []string{fmt.Sprintf("model_params: %s is not in this run's models (%s); its parameters are unused", unused[0], models)}
	}
	return []string{fmt.Sprintf("model_params: %s are not in this run's models (%s); their parameters are unused", strings.Join(unused, ", "), models)}
}
