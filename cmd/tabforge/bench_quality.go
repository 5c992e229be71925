package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/bench"
)

func (a *app) benchQualityCommand() *cobra.Command {
	var testdata, manifest string
	var only, peers []string
	var seeds []int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "quality [--only NAME,...] [--seeds N,...] [--manifest FILE] [--peers FILE,...] [--json] [-- EXTRA TRAIN FLAGS]",
		Short: "Compare train --profile production (no tuning, gates off) with the peers on the shared datasets",
		Long: `Quality runs tabforge train --profile production --set force_production_quality=false (a
fresh process and store each) on ames, txhousing, txhousing_novolume, credit_data and mlc_churn
with the peers' exact test rows, and prints tabforge's pick, its test metric (R² regression,
ROC AUC binary, log-loss multiclass) and wall time beside the peers' default XGBoost,
Optuna-TPE XGBoost and best scikit-learn rows of the baselines, whether tabforge reaches the
Optuna-TPE XGBoost, and a total line.

--manifest adds datasets from a CSV with columns file,target,task,time_column,test_rows
(test_rows optional: without it train's default split). Their peer rows come from further
--peers files, such as the peers.json that bench/peer_corpus.py writes beside its manifest:

  tabforge bench quality --manifest OUT/manifest.csv \
      --peers testdata/peers/baselines.json,OUT/peers.json

--seeds runs every dataset once per seed (train's --seed) and adds a table over seeds: the
median, lowest and highest test metric and how many runs reach the Optuna-TPE XGBoost row; the
total line then counts medians. A pick can turn on which of two close models a few CV folds
favour, so one seed's score is one draw (the peers' rows are one draw too, at seed 42).

Flags after -- go to every train run.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkSeeds(seeds, args); err != nil {
				return err
			}
			self, err := os.Executable()
			if err != nil {
				return err
			}
			ps, err := bench.ReadPeers(peers...)
			if err != nil {
				return err
			}
			cases := bench.QualityCases(testdata)
			if manifest != "" {
				ds, err := bench.ReadManifest(manifest)
				if err != nil {
					return usageError{err}
				}
				cases = append(cases, bench.ManifestCases(ds)...)
			}
			if len(only) > 0 {
				cases = slices.DeleteFunc(cases, func(c bench.QualityCase) bool { return !slices.Contains(only, c.Name) })
				if len(cases) == 0 {
					return usagef("bench quality: --only %v matches no dataset", only)
				}
			}
			rs, err := bench.Quality(cmd.Context(), self, cases, seeds, ps, args, a.stderr)
			if err != nil {
				return err
			}
			if asJSON {
				if err := json.NewEncoder(a.stdout).Encode(rs); err != nil {
					return err
				}
				return bench.QualityFailed(rs)
			}
			return bench.PrintQuality(a.stdout, rs)
		},
	}
	f := cmd.Flags()
	f.StringVar(&testdata, "testdata", "testdata", "directory of the shared datasets and splits/")
	f.StringSliceVar(&peers, "peers", []string{"testdata/peers/baselines.json"}, "the peer baselines: files in baselines.json's shape (several: comma-separated or repeated)")
	f.StringVar(&manifest, "manifest", "", "CSV of more datasets: file,target,task,time_column,positive_class,test_rows")
	f.StringSliceVar(&only, "only", nil, "run only these datasets (names: the shared ones, or a manifest file's stem)")
	f.IntSliceVar(&seeds, "seeds", nil, "run each dataset at these seeds (train's --seed) and summarise over them; default one run at train's default seed")
	f.BoolVar(&asJSON, "json", false, "print results as JSON")
	return cmd
}

func (a *app) benchCorpusCommand() *cobra.Command {
	var manifest, task string
	var variants []string
	var o bench.CorpusOptions
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "corpus --manifest PATH [--task T] [--max-rows N] [--limit N] [--variant NAME=FLAGS ...] [--json]",
		Short: "Compare variants of train's defaults across a corpus of datasets",
		Long: `Corpus runs tabforge train (a fresh process and store each; development profile, quality gates
off, the manifest's task, time column and positive class) on every dataset of the manifest (for
example the meta corpus's MANIFEST.csv) once per variant, a name and extra train flags, and prints
each run's test metric (R² regression, ROC AUC binary, log-loss multiclass) and seconds, then each
variant against the first: wins, ties (within 0.002), losses, mean delta, total time, failures.
Timeouts and errors are listed, never fatal. --json prints the whole report; --results DIR keeps
each run's whole train --json result (every candidate's CV and test scores), so that rules
choosing among candidates can be compared later on the same runs. Example:

  tabforge bench corpus --manifest MANIFEST.csv --task binary --max-rows 2000 --limit 10 \
      --variant base= --variant lr05='--set "model_params={gbdt: {learning_rate: 0.05}}"'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if manifest == "" {
				return usagef("bench corpus: --manifest is required")
			}
			if task != "" && bench.HeadlineMetric(task) == "" {
				return usagef("bench corpus: --task %q; want regression, binary or multiclass", task)
			}
			for _, s := range variants {
				v, err := bench.ParseVariant(s)
				if err != nil {
					return usageError{err}
				}
				o.Variants = append(o.Variants, v)
			}
			ds, err := bench.ReadManifest(manifest)
			if err != nil {
				return usageError{err}
			}
			if o.ResultsDir != "" {
				if err := os.MkdirAll(o.ResultsDir, 0o755); err != nil {
					return fmt.Errorf("bench corpus: --results: %w", err)
				}
			}
			self, err := os.Executable()
			if err != nil {
				return err
			}
			// An interrupted benchmark still prints the runs it finished.
			rep, err := bench.Corpus(cmd.Context(), self, bench.FilterDatasets(ds, task, limit), o, a.stderr)
			if rep == nil {
				return err
			}
			if asJSON {
				return errors.Join(err, json.NewEncoder(a.stdout).Encode(rep))
			}
			return errors.Join(err, bench.PrintCorpus(a.stdout, rep))
		},
	}
	f := cmd.Flags()
	f.StringVar(&manifest, "manifest", "", "CSV of datasets: file,target[,task,time_column,positive_class,test_rows]")
	f.StringVar(&task, "task", "", "only datasets of this task: regression, binary or multiclass")
	f.IntVar(&o.MaxRows, "max-rows", 0, "subsample larger datasets to this many rows (seeded; 0 = all)")
	f.IntVar(&limit, "limit", 0, "only the first N datasets (after --task; 0 = all)")
	f.StringArrayVar(&variants, "variant", nil, "NAME=FLAGS, extra train flags (repeatable; the first is the baseline; default base=)")
	f.DurationVar(&o.Timeout, "timeout", 120*time.Second, "time limit of each train run")
	f.Uint64Var(&o.Seed, "seed", 42, "seed of the row subsample")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.StringVar(&o.ResultsDir, "results", "", "keep every run's train --json result in this directory as DATASET.VARIANT.json")
	return cmd
}

// checkSeeds refuses --seeds that would make every run fail or every run
// alike: train's --seed takes no negative number, and a --seed among the
// extra train flags comes after --seeds' and wins, so the table "over
// seeds" would be one seed's runs.
func checkSeeds(seeds []int, extra []string) error {
	if len(seeds) == 0 {
		return nil
	}
	for _, s := range seeds {
		if s < 0 {
			return usagef("bench quality: --seeds %d: train's --seed is a whole number from 0", s)
		}
	}
	for _, a := range extra {
		if a == "--seed" || strings.HasPrefix(a, "--seed=") {
			return usagef("bench quality: --seeds with %s among the train flags: every run would use that seed; drop one", a)
		}
	}
	return nil
}
