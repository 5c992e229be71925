package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/bench"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
)

func (a *app) benchCommand() *cobra.Command {
	var runs, rows int
	var dataDir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "bench SUITE",
		Short: "Time tabforge against scikit-learn / XGBoost side by side on the same data",
		Long: `Bench generates the synthetic Friedman-1 problem of the speed anchors, writes it once, and
times each case in fresh processes — tabforge and its peer under /usr/bin/python3 — printing the
median fit time, peak RSS, test metric and the ratio tabforge/peer.

Suites: ` + strings.Join(suiteNames(), ", "),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cases, ok := bench.Suites()[args[0]]
			if !ok {
				return usagef("bench: unknown suite %q (known: %s)", args[0], strings.Join(suiteNames(), ", "))
			}
			// Fewer rows leave a test part (20%) too small to score, and
			// timings of nothing.
			if rows != 0 && rows < 100 {
				return usagef("bench: --rows %d: at least 100", rows)
			}
			if runs < 1 {
				return usagef("bench: --runs %d: at least 1", runs)
			}
			if rows > 0 {
				for i := range cases {
					cases[i].Rows = rows
				}
			}
			self, err := os.Executable()
			if err != nil {
				return err
			}
			res, err := bench.Run(cmd.Context(), cases, bench.Options{Self: self, Runs: runs, DataDir: dataDir, Log: a.stderr})
			if err != nil {
				return err
			}
			if asJSON {
				if err := json.NewEncoder(a.stdout).Encode(res); err != nil {
					return err
				}
				return bench.Failed(res)
			}
			return bench.PrintTable(a.stdout, res)
		},
	}
	f := cmd.Flags()
	f.IntVar(&runs, "runs", 3, "runs per case and side (the median is reported)")
	f.IntVar(&rows, "rows", 0, "override the problem size of every case (train = 80%)")
	f.StringVar(&dataDir, "data-dir", "", "keep the generated data here (default: a temporary directory)")
	f.BoolVar(&asJSON, "json", false, "print results as JSON")

	var family, params, task, dir string
	var n int
	one := &cobra.Command{
		Use:    "case",
		Short:  "Run one tabforge benchmark case (used by bench in a fresh process)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := model.ParseTask(task)
			if err != nil {
				return usageError{err}
			}
			return bench.RunCase(cmd.Context(), a.stdout, pipeline.Families(), family, params, t, n, dir)
		},
	}
	of := one.Flags()
	of.StringVar(&family, "family", "", "model family")
	of.StringVar(&params, "params", "", "parameters, JSON")
	of.StringVar(&task, "task", "regression", "regression or binary")
	of.IntVar(&n, "rows", 0, "rows of the problem")
	of.StringVar(&dir, "data", "", "data directory")
	cmd.AddCommand(one, a.benchProfilesCommand(), a.benchResearchCommand(), a.benchQualityCommand(), a.benchCorpusCommand(), a.benchFeaturesCommand(), a.benchCacheCommand(), a.benchSHAPCommand(), a.benchServeCommand(), a.benchUICommand(), a.benchDistCommand())
	return cmd
}

func suiteNames() []string {
	var names []string
	for n := range bench.Suites() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (a *app) benchProfilesCommand() *cobra.Command {
	var profiles []string
	cmd := &cobra.Command{
		Use:   "profiles [--profiles P,...] -- TRAIN FLAGS",
		Short: "Train once per profile and compare time, peak memory and test metrics",
		Long: `Profiles runs tabforge train (in a fresh process each) with every profile and the
train flags given after --, then prints training time, peak RSS and the best model's
test metric of each, relative to the first profile. Example:

  tabforge bench profiles -- --data testdata/txhousing.csv --target median \
      --time-column date --segment-column city --drop volume --time-budget 60s`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("bench profiles: give the train flags after -- (at least --data and --target)")
			}
			self, err := os.Executable()
			if err != nil {
				return err
			}
			rs, err := bench.Profiles(cmd.Context(), self, args, profiles)
			if err != nil {
				return err
			}
			if err := bench.PrintProfiles(a.stdout, rs); err != nil {
				return err
			}
			return everyRunFailed("bench profiles", rs, func(r bench.ProfileResult) string { return r.Err })
		},
	}
	cmd.Flags().StringSliceVar(&profiles, "profiles", []string{"development", "production", "research"}, "profiles to compare; the first is the baseline")
	return cmd
}

func (a *app) benchResearchCommand() *cobra.Command {
	var testdata, peers, peerNow, python string
	var only []string
	var scale float64
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "research [--only NAME,...] [-- EXTRA TRAIN FLAGS]",
		Short: "Compare train --profile research with the peers' Optuna-TPE XGBoost on the four shared datasets",
		Long: `Research runs tabforge train --profile research (a fresh process and store each) on ames,
txhousing, credit_data and mlc_churn with the peers' exact test rows and a time budget equal to the
tune_s of the XGBoost Optuna-TPE(30 trials) row of the peer baselines, and prints both test metrics
(R² for regression, ROC AUC for classification). Flags after -- are passed to every train run.

With --peer-now BASELINES_PY (the path of shared/anchors/baselines.py), each peer row is first
re-run on this machine with Debian's python3-xgboost and python3-optuna, and its measured tune_s
is tabforge's budget: both sides timed on the same machine, one after the other.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			self, err := os.Executable()
			if err != nil {
				return err
			}
			pt, err := bench.ReadPeerTuned(peers)
			if err != nil {
				return err
			}
			var cases []bench.ResearchCase
			for _, c := range bench.ResearchCases(testdata) {
				if len(only) == 0 || slices.Contains(only, c.Name) {
					cases = append(cases, c)
				}
			}
			var now *bench.PeerNow
			if peerNow != "" {
				now = &bench.PeerNow{Python: python, Baselines: peerNow}
			}
			rs, err := bench.Research(cmd.Context(), self, cases, pt, now, scale, args, a.stderr)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(rs)
			}
			return bench.PrintResearch(a.stdout, rs)
		},
	}
	f := cmd.Flags()
	f.StringVar(&testdata, "testdata", "testdata", "directory of the datasets and splits/")
	f.StringVar(&peers, "peers", "testdata/peers/baselines.json", "the peer baselines (Optuna rows)")
	f.StringSliceVar(&only, "only", nil, "run only these datasets")
	f.StringVar(&peerNow, "peer-now", "", "re-run the peers' Optuna rows on this machine first with this baselines.py and use their measured tune_s")
	f.StringVar(&python, "python", "/usr/bin/python3", "the Python that runs the peer for --peer-now")
	f.Float64Var(&scale, "budget-scale", 1, "multiply the peer's tune_s by this (the protocol is 1; a busier machine than the peer's may warrant more)")
	f.BoolVar(&asJSON, "json", false, "print results as JSON")
	return cmd
}

func (a *app) benchFeaturesCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "features -- TRAIN FLAGS",
		Short: "Compare basic and advanced features per model family and for the selected model",
		Long: `Features runs tabforge train three times with the train flags given after --:
on the basic features, with every family on the advanced features only, and with
each family's basic and advanced variants competing by cross-validation. It prints
each family's basic vs advanced test metric and the model CV selects. Example:

  tabforge bench features -- --data testdata/txhousing.csv --target median \
      --time-column date --segment-column city --drop volume \
      --test-rows testdata/splits/txhousing_novolume.test_rows.txt --models ridge,gbdt`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("bench features: give the train flags after -- (at least --data and --target)")
			}
			self, err := os.Executable()
			if err != nil {
				return err
			}
			fc, err := bench.Features(cmd.Context(), self, args)
			if err != nil {
				return err
			}
			if err := bench.PrintFeatures(a.stdout, fc); err != nil {
				return err
			}
			return everyRunFailed("bench features", bench.FeatureVariants(), func(v bench.FeatureVariant) string { return fc.Errs[v.Name] })
		},
	}
}

func (a *app) benchCacheCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "cache -- TRAIN FLAGS",
		Short: "Time a cold train run and an identical rerun served from the step cache",
		Long: `Cache runs tabforge train twice with the train flags given after --, in fresh
processes against one new store, and prints both times, the speed-up and the
cache hits and misses of each. Example:

  tabforge bench cache -- --data testdata/ames.csv --target Sale_Price --time-column Year_Sold,Mo_Sold`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("bench cache: give the train flags after -- (at least --data and --target)")
			}
			self, err := os.Executable()
			if err != nil {
				return err
			}
			rs, err := bench.Cache(cmd.Context(), self, args)
			if err != nil {
				return err
			}
			if err := bench.PrintCache(a.stdout, rs); err != nil {
				return err
			}
			return everyRunFailed("bench cache", rs, func(r bench.CacheRun) string { return r.Err })
		},
	}
}

func (a *app) benchDistCommand() *cobra.Command {
	var workers []int
	var pings, trials int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "dist [--workers 1,2] [--trials 40] [-- TRAIN FLAGS]",
		Short: "Time a tuned train on 1, 2, ... worker processes through JetStream against one process with as many cores",
		Long: `Dist runs the same tuned train in one process with N cores (GOMAXPROCS=N)
and on N tabforge worker processes of one core each, through a fresh
JetStream server on 127.0.0.1 (embedded, or nats-server from PATH) and a
fresh store per run. tune_batch is fixed to the largest N, so every run
runs the same study. It prints wall and study time, units run, speedup of
the study time, the median publish-to-start time of empty units sent to an
idle worker, and the best CV value. Without train flags it tunes gbdt for
--trials trials (default 40, the issue's measured study) on 5 folds of
testdata/ames.csv.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(workers) == 0 || slices.Min(workers) < 1 {
				return usagef("bench dist: --workers wants counts of at least 1")
			}
			if trials < 1 {
				return usagef("bench dist: --trials %d: want at least 1", trials)
			}
			if len(args) == 0 {
				args = []string{"--data", "testdata/ames.csv", "--target", "Sale_Price", "--models", "gbdt", "--cv-folds", "5",
					"--set", "enable_hyperparameter_tuning=true", "--max-evals", strconv.Itoa(trials), "--set", "force_production_quality=false"}
			}
			self, err := os.Executable()
			if err != nil {
				return err
			}
			// The workers run self, so they name this build.
			code, err := registry.CodeVersion("tabforge " + version)
			if err != nil {
				return err
			}
			rows, err := bench.Dist(cmd.Context(), bench.DistOptions{Self: self, Workers: workers, TrainArgs: args, Pings: pings, CodeVersion: code})
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(rows)
			}
			return bench.PrintDist(a.stdout, rows)
		},
	}
	cmd.Flags().IntSliceVar(&workers, "workers", []int{1, 2}, "worker counts (and local core counts) to measure")
	cmd.Flags().IntVar(&trials, "trials", 40, "trials of the default gbdt study (ignored with train flags)")
	cmd.Flags().IntVar(&pings, "pings", 50, "empty units that measure the publish-to-start overhead")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the rows as JSON")
	return cmd
}

// everyRunFailed is an error when every one of a comparison's train runs
// failed (errOf gives each run's error, "" for a success): the table shows
// why, and the command must not exit 0 having measured nothing. The
// first error stands for all, as they are usually the same bad flag.
func everyRunFailed[R any](what string, runs []R, errOf func(R) string) error {
	for _, r := range runs {
		if errOf(r) == "" {
			return nil
		}
	}
	if len(runs) == 0 {
		return fmt.Errorf("%s: no train run", what)
	}
	return fmt.Errorf("%s: every train run failed (%s)", what, errOf(runs[0]))
}
