package continuous

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
)

// decide applies the policy to the scores in d, promotes a winner and
// records the decision in the registry's history.
func decide(ctx context.Context, env Env, champ *registry.Model, res *pipeline.Result, pol Policy, d *Decision) (*Decision, error) {
	gain := d.ChallengerScore - d.ChampionScore
	if !eval.Higher(d.Metric) {
		gain = -gain
	}
	need := max(pol.MinAbsolute, pol.MinRelative*math.Abs(d.ChampionScore))
	tied := pol.tied(gain, d.Paired)
	if tied {
		gain = 0
	}
	switch {
	case d.ChallengerVersion == champ.Version:
		d.Reason = "the challenger is the champion (same data, configuration and code)"
		return d, nil
	case math.IsNaN(gain):
		// NaN compares false with every margin below and would fall through
		// to a promotion: a challenger whose score cannot be computed (its
		// predictions are not numbers) must not replace a scored champion.
		d.Reason = fmt.Sprintf("the challenger's %s on the newest %d rows is %.4g against the champion's %.4g; an undefined score is no win",
			d.Metric, d.HoldoutRows, d.ChallengerScore, d.ChampionScore)
	case !res.Deployable && len(blocking(res.Gates, d)) > 0:
		d.Reason = "the challenger failed its quality gates: " + strings.Join(blocking(res.Gates, d), "; ")
	case d.Paired != nil && d.Paired.ChallengerWins < pol.MinWins:
		d.Reason = fmt.Sprintf("the challenger wins %.0f%% of the paired resamples of the newest %d rows, below the %.0f%% required",
			100*d.Paired.ChallengerWins, d.HoldoutRows, 100*pol.MinWins)
	case gain < need || gain < 0 || (gain == 0 && pol.KeepHoldout):
		d.Reason = fmt.Sprintf("the challenger's %s %.4g does not beat the champion's %.4g by the margin (%.4g needed, %.4g gained) on the newest %d rows",
			d.Metric, d.ChallengerScore, d.ChampionScore, need, gain, d.HoldoutRows)
	default:
		d.Decision, d.Stage = Promote, pol.Stage
		if d.Stage == "" {
			d.Stage = registry.Production
		}
		d.Reason = fmt.Sprintf("the challenger's %s %.4g beats the champion's %.4g on the newest %d rows", d.Metric, d.ChallengerScore, d.ChampionScore, d.HoldoutRows)
		if gain == 0 {
			d.Reason = fmt.Sprintf("the challenger's %s %.4g ties the champion's on the newest %d rows, and it learnt from them", d.Metric, d.ChallengerScore, d.HoldoutRows)
		}
		if tied {
			d.Reason = fmt.Sprintf("the challenger's %s %.4g ties the champion's %.4g on the newest %d rows within noise (it wins %.0f%% of the paired resamples, %.0f%% needed for a tie), and it learnt from them",
				d.Metric, d.ChallengerScore, d.ChampionScore, d.HoldoutRows, 100*d.Paired.ChallengerWins, 100*pol.TieWins)
			d.rules = append(d.rules, ruleTie)
		}
		if !res.Deployable {
			d.Reason += fmt.Sprintf("; it misses the %s floor there, which the champion misses too", d.Metric)
		}
	}
	if len(d.rules) > 0 {
		d.Reason = strings.Join(d.rules, ", ") + ": " + d.Reason
	}
	if d.Decision == Promote {
		reason := fmt.Sprintf("retrain: %s; challenger %s, parent %s", d.Reason, d.ChallengerVersion, champ.Version)
		// A challenger past blocking() with failed gates failed only floors
		// the champion fails worse on the same rows: it is forced in.
		if err := promoteDecided(ctx, env, champ, d.ChallengerVersion, d, registry.PromoteOptions{Reason: reason, Force: !res.Deployable}); err != nil {
			return nil, err
		}
	}
	if err := record(ctx, env, champ, d); err != nil {
		return nil, err
	}
	return d, nil
}

// promoteDecided moves version to d's stage, unless production has moved
// off the champion d was decided against while the retrain ran (someone
// promoted or rolled back meanwhile): that choice stands and d becomes a
// keep that says so.
func promoteDecided(ctx context.Context, env Env, champ *registry.Model, version string, d *Decision, o registry.PromoteOptions) error {
	if d.Stage == registry.Production {
		o.Expect = champ.Version
	}
	_, err := env.Registry.Promote(ctx, version, d.Stage, o)
	if errors.Is(err, registry.ErrProductionChanged) {
		d.Decision, d.Stage, d.moved = Keep, "", true
		d.Reason += "; not promoted: " + err.Error()
		return nil
	}
	return err
}

// blocking are the challenger's failed gates that keep it out: all but
// a floor on the decision's metric (min_r2_threshold) that the champion
// misses by as much or more on the same newest rows. Such a floor, judged on one
// short period, says the period is hard, not that the challenger is
// worse than what is deployed: replacing the champion improves things.
func blocking(gates pipeline.Gates, d *Decision) []string {
	var out pipeline.Gates
	for _, g := range gates {
		if !g.Passed && !(g.Metric == d.Metric && !g.Max && g.Detail == "" && eval.Higher(d.Metric) && d.ChampionScore <= g.Value) {
			out = append(out, g)
		}
	}
	return out.Failures()
}

// record keeps d in the name's history: a retrain event of the
// challenger (if any) with the champion as its parent.
func record(ctx context.Context, env Env, champ *registry.Model, d *Decision) error {
	version := d.ChallengerVersion
	if d.Decision == Refresh {
		version = d.Refresh.Version
	}
	e := registry.Event{Name: champ.Name, Action: registry.ActionRetrain, Version: version, Parent: champ.Version, Reason: d.Decision + ": " + d.Reason}
	_, err := env.Registry.Record(ctx, e)
	return err
}
