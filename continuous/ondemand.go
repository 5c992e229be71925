package continuous

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/drift"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
)

// onDemand applies an on-demand policy before any challenger is trained:
// it looks for a reason to train one (the champion's decay, drift
// between the newest rows and those before, the champion's age) and,
// with none, refreshes the champion if the policy says so or records
// the keep. done reports that Retrain ends here, returning out and err;
// otherwise a challenger is to be trained and d.Trigger says why.
func (run *retrainRun) onDemand(ctx context.Context) (out *Decision, done bool, err error) {
	if run.d.Trigger = needed(run.champ, run.d, run.pol.Decay); run.d.Trigger == "" && run.pol.OnDrift {
		if run.d.Trigger = recentDrift(ctx, run.champP, run.cfg, run.x, run.holdout); run.d.Trigger != "" {
			run.d.rules = append(run.d.rules, ruleOnDrift)
		}
	}
	if run.d.Trigger == "" {
		run.d.Trigger, err = aged(ctx, run.env, run.champ, run.pol.MaxAge)
		if err != nil {
			return nil, true, fmt.Errorf("retrain %s: %w", run.name, err)
		}
	}
	if run.d.Trigger == "" {
		// "within" would misread a champion doing better than on its test
		// rows, as it often does (the backtests' refreshes mostly are).
		run.d.Reason = fmt.Sprintf("on demand: the champion's %s on the newest %d rows, %.4g, is no more than %.0f%% worse than its test score %.4g", run.d.Metric, run.d.HoldoutRows, run.d.ChampionScore, 100*run.pol.Decay, run.champ.Metrics[run.d.Metric])
		if run.pol.Refresh > 0 {
			if err := run.refresh(ctx); err != nil {
				return nil, true, fmt.Errorf("retrain %s: %w", run.name, err)
			}
			if run.d.Decision == Refresh || run.d.moved {
				return run.d, true, nil // refresh recorded its decision
			}
			if run.pol.RefreshOrTrain && run.d.Refresh != nil {
				run.d.Trigger = "the champion's refresh did not check out (" + run.d.Refresh.why + ")"
				run.d.rules = append(run.d.rules, ruleRefreshOrTrain)
			}
		}
		if run.d.Trigger == "" {
			return run.d, true, record(ctx, run.env, run.champ, run.d)
		}
		run.d.Reason = "" // the challenger's decision gives it; d.Refresh keeps the failed check
	}
	return nil, false, nil
}

// needed says why the newest rows call for a challenger, or "" when
// they do not: the champion's score on them decayed from its test score
// by more than decay (a share of its magnitude). Drift is reported, not
// acted on: one period against the champion's whole history drifts in
// every time-like feature (year, month, seasonal counts) every period
// (on Texas housing, 3 to 4 of 6 features each month of 2010), and the
// newest rows have their targets, so the champion's score on them says
// directly whether it still predicts them.
func needed(champ *registry.Model, d *Decision, decay float64) string {
	ref, ok := champ.Metrics[d.Metric]
	if !ok {
		return "the champion has no test " + d.Metric
	}
	loss, moved := ref-d.ChampionScore, "fell"
	if !eval.Higher(d.Metric) {
		loss, moved = -loss, "rose" // a loss (logloss, rmse) that grows is the decay
	}
	if loss > decay*math.Abs(ref) {
		return fmt.Sprintf("the champion's %s %s from %.4g to %.4g", d.Metric, moved, ref, d.ChampionScore)
	}
	return ""
}

// recentDrift says why the newest rows of x (holdout) call for a
// challenger, or "": they drift from the as many rows just before them
// on the champion's input features (time column and target left out).
// A comparison that fails, or has no rows before, calls for none.
func recentDrift(ctx context.Context, p *pipeline.Predictor, cfg *config.Config, x *frame.Frame, holdout []int) string {
	order := timeOrder(x, cfg.TimeColumn)
	end := len(order) - len(holdout)
	prev := slices.Clone(order[max(0, end-len(holdout)):end])
	if len(prev) == 0 {
		return ""
	}
	slices.Sort(prev)
	var cols []string
	for _, f := range p.Schema {
		if f.Name != cfg.Target && !timePart(cfg.TimeColumn, f.Name) {
			cols = append(cols, f.Name)
		}
	}
	r, err := drift.Compare(ctx, x.Take(prev), x.Take(holdout), drift.Options{Columns: cols})
	if err != nil || !r.DatasetDrift {
		return ""
	}
	return fmt.Sprintf("the newest %d rows drift from the %d before them (%d of %d features)", len(holdout), len(prev), r.Drifted, r.Compared)
}

// aged says why the champion is too old to keep without a challenger,
// or "": it has seen maxAge new data versions since the training of its
// model (its retrain decisions, and those of the versions it was
// refreshed from: a refresh adds rounds, it does not retrain), or
// maxAge is 0. It reads the name's registry.Summary, one record, not
// the history, which may be long or pruned.
func aged(ctx context.Context, env Env, champ *registry.Model, maxAge int) (string, error) {
	if maxAge <= 0 {
		return "", nil
	}
	s, err := env.Registry.Summary(ctx, champ.Name)
	if err != nil {
		return "", err
	}
	age := 0
	for v, seen := champ.Version, map[string]bool{}; v != "" && !seen[v]; v = refreshedFrom(s, v) {
		seen[v] = true
		age += s.Retrains[v]
	}
	if age < maxAge {
		return "", nil
	}
	return fmt.Sprintf("the champion has seen %d new data versions since its promotion (max age %d)", age, maxAge), nil
}
