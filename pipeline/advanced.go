package pipeline

import (
	"context"
	"fmt"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/split"
)

// stage is one advanced feature stage and the config flag that enables it.
type stage struct {
	name string
	t    features.Transformer
}

// advancedStages returns the feature stages the config switches on, with
// warnings for stages that cannot run on this data (no time or segment
// column). enable_advanced_features gates them all.
func advancedStages(cfg *config.Config, target string, horizon int) ([]stage, []string) {
	if !cfg.EnableAdvancedFeatures {
		return nil, nil
	}
	var out []stage
	var warnings []string
	if cfg.EnableTemporalFeatures {
		if cfg.TimeColumn == "" {
			warnings = append(warnings, "temporal features need time_column; stage skipped")
		} else {
			out = append(out, stage{"temporal", features.Temporal{TimeColumn: cfg.TimeColumn, Target: target,
				SegmentColumn: cfg.SegmentColumn, Lags: orNone(cfg.TemporalLags), Windows: orNone(cfg.RollingWindows),
				MinPanelCoverage: cfg.MinPanelCoverage, Horizon: horizon, Seed: cfg.Seed}})
		}
	}
	if cfg.EnableMarketFeatures {
		if cfg.SegmentColumn == "" {
			warnings = append(warnings, "market features need segment_column; stage skipped")
		} else {
			out = append(out, stage{"market", features.Market{Segments: []string{cfg.SegmentColumn}, Target: target,
				Smoothing: smoothing(cfg.TargetEncodingSmoothing), Seed: cfg.Seed}})
		}
	}
	if cfg.EnableInteractionFeatures {
		out = append(out, stage{"interaction", features.Interaction{Target: target, TopK: cfg.InteractionTopK,
			MaxNew: cfg.MaxInteractions, Categorical: true, Seed: cfg.Seed}})
	}
	return out, warnings
}

// orNone passes a config list to a feature stage, where nil means the
// stage's own defaults: the config has already applied its defaults, so an
// empty list (cleared by the user) means none.
func orNone(v []int) []int {
	if v == nil {
		return []int{}
	}
	return v
}

// smoothing passes target_encoding_smoothing to features.Market, whose 0
// means its default of 10 and a negative value none: the config's 0 is
// none.
func smoothing(m float64) float64 {
	if m == 0 {
		return -1
	}
	return m
}

// horizon is the forecast horizon of the temporal history features:
// temporal_horizon, or when that is 0, how many periods of the time grid
// (see features.Temporal.PeriodsAhead) the test part reaches past the
// training part, a stray time counting in its period (1 when the test
// part interleaves with training, as in a random split).
func (p *prepared) horizon(cfg *config.Config) int {
	if cfg.TemporalHorizon > 0 || p.times == nil {
		return max(1, cfg.TemporalHorizon)
	}
	h, err := features.Temporal{TimeColumn: cfg.TimeColumn}.PeriodsAhead(p.x, p.train, p.test)
	if err != nil {
		// The temporal stage reads the same columns and fails too; its
		// fallback says why.
		return 1
	}
	return max(1, h)
}

// trialFit fits each stage alone on the whole training part and keeps the
// ones that work: a stage that errors falls back to the basic path with a
// warning instead of failing the run. It returns the warnings rather than
// logging them: the run logs its warnings once, as it records them.
func trialFit(ctx context.Context, stages []stage, p *prepared) (features.Chain, []string, []string) {
	var chain features.Chain
	var used, fallbacks []string
	train, err := p.withTarget(p.train)
	if err != nil {
		return nil, nil, []string{fmt.Sprintf("advanced features: %v; basic path used", err)}
	}
	for _, s := range stages {
		if _, _, err := (features.Chain{s.t}).FitTransform(ctx, train); err != nil {
			fallbacks = append(fallbacks, fmt.Sprintf("%s features failed (%v); fell back to the basic path for this stage", s.name, err))
			continue
		}
		chain = append(chain, s.t)
		used = append(used, s.name)
	}
	return chain, used, fallbacks
}

// targetColumn names the target inside frames handed to feature stages.
const targetColumn = "__target__"

// withTarget returns the feature rows with the (coded) target appended as
// a numeric column, which target-based stages read on training rows only.
func (p *prepared) withTarget(rows []int) (*frame.Frame, error) {
	return p.x.Take(rows).With(frame.NewNumeric(targetColumn, split.Take(p.y, rows)))
}

// applyChain fits the advanced stages on trainRows and transforms both
// parts; the target column never reaches the design.
func (p *prepared) applyChain(ctx context.Context, trainRows, evalRows []int) (*frame.Frame, *frame.Frame, features.FittedChain, error) {
	if len(p.chain) == 0 {
		return p.x.Take(trainRows), p.x.Take(evalRows), nil, nil
	}
	train, err := p.withTarget(trainRows)
	if err != nil {
		return nil, nil, nil, err
	}
	fc, xtr, err := p.chain.FitTransform(ctx, train)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("advanced features: %w", err)
	}
	xev, err := fc.Transform(p.x.Take(evalRows))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("advanced features: %w", err)
	}
	return xtr.Drop(targetColumn), xev.Drop(targetColumn), fc, nil
}

// AdvancedSuffix marks the leaderboard name of a candidate trained with the
// advanced feature stages when its basic variant competes beside it.
const AdvancedSuffix = "+adv"

// candidate is one family trained on one feature variant.
type candidate struct {
	family string         // model family
	label  string         // leaderboard name
	chain  features.Chain // advanced stages; nil on the basic path
}

// variants pairs every family with the feature variants to try: the
// advanced chain alone, or, when compare is on, the basic features and the
// advanced chain side by side (basic first), so that cross-validation
// picks the better of the two for each family.
func variants(families []string, chain features.Chain, compare bool) []candidate {
	out := make([]candidate, 0, 2*len(families))
	for _, f := range families {
		switch {
		case len(chain) == 0:
			out = append(out, candidate{family: f, label: f})
		case compare:
			out = append(out, candidate{family: f, label: f}, candidate{family: f, label: f + AdvancedSuffix, chain: chain})
		default:
			out = append(out, candidate{family: f, label: f, chain: chain})
		}
	}
	return out
}
