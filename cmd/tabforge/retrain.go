package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/continuous"
	"github.com/tabforge/tabforge/meta"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
)

func (a *app) retrainCommand() *cobra.Command {
	var name, data, dir, stage string
	var pol continuous.Policy
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "retrain --name NAME --data NEW",
		Short: "Retrain a registered model on new data; promote the challenger only if it is better",
		Long: `Retrain takes the production version of NAME as the champion. A data file
with the same content as the champion's training data is "keep: no new data",
and one with no row newer than the champion's data (its rows reordered, or
older rows backfilled) is a keep too: no row could judge a challenger.
Otherwise it reports drift against the champion's data and scores the
champion on the newest rows (--holdout, by the champion's time column). By
default (the policy 'tabforge backtest' measures) it trains a challenger
only on demand: the champion's score there fell more than --decay below its
test score, the champion has seen --max-age new data versions since its
promotion, the newest rows drift from as many rows before them (--on-drift),
or the champion's refresh (--refresh: a tenth of its boosting rounds more,
on all rows) does not check out or gains more than --decay
(--refresh-or-train); otherwise a refresh that checks out replaces the
champion, else it is kept. --on-demand=false trains a challenger on any new
data. The challenger has the champion's configuration, trains on all but the
newest rows and is promoted when it beats the champion there by
--min-absolute and --min-relative (as MLflow's MetricThreshold), wins at
least --min-wins of 200 paired bootstrap resamples of those rows, and passed
its quality gates (but a floor on the metric, such as min_r2_threshold, that
the champion misses too on those rows: the period is hard, and the
challenger is promoted forced, still marked not deployable, the reason
saying so); a challenger below the champion that still wins
--tie-wins of the resamples ties it and is promoted, as it learnt the newest
rows. The reason names the rule that decided (tie-wins, on-drift,
refresh-or-train). --stage staging promotes to staging only. Every decision
is an event in the name's history (action retrain, the challenger and its
parent version).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" || data == "" {
				return usagef("retrain: --name and --data are required")
			}
			var err error
			if pol.Stage, err = servingStage("retrain", stage); err != nil {
				return err
			}
			cfg, st, err := a.configStore(cmd, toWrite)
			if err != nil {
				return err
			}
			defer st.Close()
			ctx := cmd.Context()
			env, closeArts, err := a.retrainEnv(ctx, cfg, st, dir)
			if err != nil {
				return err
			}
			defer closeArts()
			d, err := continuous.Retrain(ctx, env, name, data, pol)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(d)
			}
			a.printDecision(d)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "registered model name; its production version is the champion")
	f.StringVar(&data, "data", "", "the new data file (.csv or .parquet)")
	f.StringVar(&dir, "dir", ".tabforge/continuous", "directory for retrain's held-out rows and runs (keep it between retrains)")
	f.StringVar(&stage, "stage", "production", "where a winning challenger goes: production or staging")
	policyFlags(cmd, &pol, true)
	f.BoolVar(&asJSON, "json", false, "print the decision as JSON")
	return cmd
}

// printDecision prints a retrain decision for people: what triggered the
// challenger, the decision and its reason, the scores, the paired
// bootstrap and the drift.
func (a *app) printDecision(d *continuous.Decision) {
	if d.Trigger != "" {
		fmt.Fprintf(a.stdout, "trained a challenger because %s\n", d.Trigger)
	}
	fmt.Fprintf(a.stdout, "%s: %s\n", d.Decision, d.Reason)
	if d.ChallengerVersion != "" {
		fmt.Fprintf(a.stdout, "champion %s %s %.4g, challenger %s %.4g\n", d.ChampionVersion, d.Metric, d.ChampionScore, d.ChallengerVersion, d.ChallengerScore)
	}
	if d.Paired != nil {
		fmt.Fprintf(a.stdout, "paired: the challenger wins %.0f%% of %d resamples, gain %.4g to %.4g (90%%)\n", 100*d.Paired.ChallengerWins, d.Paired.Resamples, d.Paired.GainLow, d.Paired.GainHigh)
	}
	if d.DriftNote != "" {
		fmt.Fprintln(a.stdout, d.DriftNote)
	}
	if d.Drift != nil {
		fmt.Fprintf(a.stdout, "drift against the champion's data: %d of %d features (%.0f%%)\n", d.Drift.Drifted, d.Drift.Compared, 100*d.Drift.DriftedShare)
	}
}

// retrainEnv is what retrain and watch retrain with: the registrar of
// cfg's artifact store, and st, which records the challengers' runs and
// studies and adds them to the knowledge base, which (with the shipped
// one) advises a challenger whose configuration has meta_learning on,
// after the champion's own configuration. close closes the artifacts.
func (a *app) retrainEnv(ctx context.Context, cfg *config.Config, st store.Store, dir string) (env continuous.Env, close func() error, err error) {
	code, err := registry.CodeVersion("tabforge " + version)
	if err != nil {
		return env, nil, err
	}
	r, closeArts, err := a.registrar(ctx, cfg, st, code)
	if err != nil {
		return env, nil, err
	}
	kb, err := meta.WithShipped(st)
	if err != nil {
		closeArts()
		return env, nil, err
	}
	log, err := a.logger()
	if err != nil {
		closeArts()
		return env, nil, err
	}
	return continuous.Env{Registry: r.Registry, Artifacts: r.Artifacts, CodeVersion: code, Dir: dir,
		Runs: st, Studies: st, Meta: meta.Advisor{KB: kb, Logger: log}, Knowledge: &meta.KB{Records: st}}, closeArts, nil
}

// servingStage parses the --stage of retrain and watch: where a promoted
// challenger goes.
func servingStage(command, stage string) (registry.Stage, error) {
	s, err := registry.ParseStage(stage)
	if err != nil || (s != registry.Production && s != registry.Staging) {
		return "", usagef("%s: --stage %q: want production or staging", command, stage)
	}
	return s, nil
}
