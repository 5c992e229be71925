package main

import (
	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/continuous"
)

// policyFlags registers the retrain policy's flags of cmd into pol, defaulting
// to continuous.DefaultPolicy: retrain, watch and backtest share them,
// so the policy a backtest measures is the one retrain and watch run.
// The newest rows both models are scored on are retrain's and watch's
// (--holdout); a backtest holds out its latest period.
func policyFlags(cmd *cobra.Command, pol *continuous.Policy, holdout bool) {
	f, def := cmd.Flags(), continuous.DefaultPolicy()
	if holdout {
		f.Float64Var(&pol.Holdout, "holdout", def.Holdout, "share of the newest rows both models are scored on (rows sharing a time are never split: the cut goes to the nearest time boundary; only the rows newer than the champion's training data when fewer)")
	}
	f.BoolVar(&pol.OnDemand, "on-demand", def.OnDemand, "train a challenger only when the newest rows call for one (--decay, --max-age, --on-drift, --refresh-or-train); false trains one on any new data")
	f.Float64Var(&pol.Decay, "decay", def.Decay, "with --on-demand: the champion's score may fall this share below its test score")
	f.IntVar(&pol.MaxAge, "max-age", def.MaxAge, "with --on-demand: also train a challenger once the champion has seen this many new data versions since its promotion (0 = no limit)")
	f.BoolVar(&pol.OnDrift, "on-drift", def.OnDrift, "with --on-demand: also train a challenger when the newest rows drift from as many rows before them")
	f.Float64Var(&pol.Refresh, "refresh", def.Refresh, "instead of keeping the champion as it is, add this share of its boosting rounds fitted on all rows, when that checks out better on the newest rows (0 = off)")
	f.BoolVar(&pol.RefreshOrTrain, "refresh-or-train", def.RefreshOrTrain, "with --on-demand and --refresh: train a challenger when the champion would be kept but its refresh does not check out or gains more than --decay")
	f.Float64Var(&pol.MinAbsolute, "min-absolute", def.MinAbsolute, "least improvement of the metric to promote, in its units")
	f.Float64Var(&pol.MinRelative, "min-relative", def.MinRelative, "least improvement to promote, as a share of the champion's score")
	f.Float64Var(&pol.MinWins, "min-wins", def.MinWins, "least share of paired bootstrap resamples of the newest rows the challenger must win, e.g. 0.9")
	f.Float64Var(&pol.TieWins, "tie-wins", def.TieWins, "a challenger below the champion that wins this share of the paired resamples ties it, and is promoted as it learnt the newest rows (0 = exact ties only)")
	f.BoolVar(&pol.KeepHoldout, "keep-holdout", def.KeepHoldout, "leave the held-out newest rows out of a promoted challenger (default: refit it on all rows)")
	cmd.PreRunE = func(*cobra.Command, []string) error {
		if holdout && pol.Holdout == 0 {
			return usagef("--holdout 0 scores on no rows; give a share in (0, 1)")
		}
		if err := pol.Check(); err != nil {
			return usageError{err}
		}
		return nil
	}
}
