package main

import (
	"encoding/json"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/bench"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/pipeline"
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
				return json.NewEncoder(a.stdout).Encode(res)
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
	cmd.AddCommand(one, a.benchProfilesCommand(), a.benchSHAPCommand())
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
			return bench.PrintProfiles(a.stdout, rs)
		},
	}
	cmd.Flags().StringSliceVar(&profiles, "profiles", []string{"development", "production", "research"}, "profiles to compare; the first is the baseline")
	return cmd
}
