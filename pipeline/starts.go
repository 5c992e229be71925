package pipeline

import (
	"context"
	"fmt"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/tune"
)

// A StartSource says where a family's tuning begins: the configurations
// a new study tries first, before its sampler's own and after which the
// sampler learns from them as from any trial. The run's default is
// BasicVariantStarts; meta-learning (the best configurations on similar
// past datasets) and continuous learning (the champion's configuration)
// are sources too, combined with StartSources.
type StartSource interface {
	Starts(ctx context.Context, q StartQuery) ([]Start, error)
}

// StartQuery describes the study asking where to start.
type StartQuery struct {
	Family    string
	Task      model.Task
	Dataset   string // content hash of the training data
	Variant   string // "" for basic features, AdvancedSuffix for advanced
	Sampler   string // "tpe" or "grid"
	Space     tune.Space
	Direction tune.Direction
	// Storage holds the run's studies; BasicStudy is the id of this
	// family's study on the basic features in this run's config.
	Storage    tune.Storage
	BasicStudy string
	// Trials is the study's trial budget (max_evals as capped for the
	// family's space); 0 means unknown.
	Trials int
}

// Start is one configuration to try first, in the tuner's internal values
// with their distributions (as in a tune.FrozenTrial).
type Start struct {
	Params        map[string]float64
	Distributions map[string]tune.Distribution
	// From says where it came from, e.g. "STUDY#TRIAL"; it is logged and
	// kept in TuningInfo.WarmStart.
	From string
	// Informed marks a start chosen for this dataset (a meta-learning
	// one): a study with any samples with TPE's model right after its
	// starts (see budgetedTPE.warmStart).
	Informed bool
}

// StartSources asks each source in turn and tries all their starts, in
// order.
type StartSources []StartSource

// Starts implements StartSource.
func (ss StartSources) Starts(ctx context.Context, q StartQuery) ([]Start, error) {
	var out []Start
	for _, s := range ss {
		got, err := s.Starts(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// BasicVariantStarts starts the advanced feature variant's TPE study from
// the best trial of its family's basic-variant study. The advanced
// features add columns to the basic ones, so parameters that fit the
// basic design are a far better start than the defaults: under a time
// budget each variant has only a handful of trials. The basic variant,
// a grid (which runs its own points), and a basic study without a best
// trial other than the defaults get no start.
type BasicVariantStarts struct{}

// Starts implements StartSource.
func (BasicVariantStarts) Starts(ctx context.Context, q StartQuery) ([]Start, error) {
	if q.Variant == "" || q.Sampler != "tpe" {
		return nil, nil
	}
	// The basic variant ran first, in this run or (cached) an earlier one
	// on the same store; if not, this opens an empty study, which has no
	// best trial.
	src, err := tune.NewStudy(ctx, q.BasicStudy, tune.Config{Direction: q.Direction, Storage: q.Storage})
	if err != nil {
		return nil, err
	}
	bt, ok, err := src.Best(ctx)
	if err != nil || !ok || len(bt.Params) == 0 {
		return nil, err
	}
	return []Start{{Params: bt.Params, Distributions: bt.Distributions, From: fmt.Sprintf("%s#%d", q.BasicStudy, bt.Number)}}, nil
}
