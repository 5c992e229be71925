package main

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/store"
)

func (a *app) evaluateCommand() *cobra.Command {
	var modelPath, dataPath string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "evaluate --model REF --data PATH",
		Short: "Score a saved model on labelled data",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if modelPath == "" || dataPath == "" {
				return usagef("evaluate: --model and --data are required")
			}
			p, err := a.loadModel(cmd, modelPath)
			if err != nil {
				return err
			}
			x, _, err := a.readInput(p, dataPath, false, asJSON)
			if err != nil {
				return err
			}
			m, n, err := pipeline.Evaluate(p, x)
			if err != nil {
				return fmt.Errorf("evaluate %s: %w", dataPath, err)
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(map[string]any{"rows": n, "task": p.Target.Task, "metrics": m})
			}
			fmt.Fprintf(a.stdout, "%s model on %d rows of %s\n", p.Family(), n, dataPath)
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			for _, k := range keys {
				fmt.Fprintf(tw, "%s\t%s\n", k, formatMetric(k, m[k]))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, k := range keys {
				if why := eval.UndefinedWhy(k); why != "" && math.IsNaN(m[k]) {
					fmt.Fprintf(a.stdout, "note: %s n/a: %s\n", k, why)
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&modelPath, "model", "", "model: a saved model file, or NAME@production, NAME@staging, NAME@ALIAS, NAME/VERSION or VERSION from --store")
	f.StringVar(&dataPath, "data", "", "labelled data file (.csv or .parquet)")
	f.BoolVar(&asJSON, "json", false, "print the metrics as JSON")
	return cmd
}

func (a *app) runsCommand() *cobra.Command {
	runs := &cobra.Command{Use: "runs", Short: "List and inspect recorded training runs"}
	var limit int
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List runs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 0 {
				return usagef("runs list: --limit %d: want 0 (all runs) or more", limit)
			}
			return a.withStore(cmd, toRead, func(st store.Store) error {
				rs, err := st.ListRuns(cmd.Context(), limit)
				if err != nil {
					return err
				}
				if fb := store.OnFallback(st); fb != nil {
					fmt.Fprintf(a.stderr, "tabforge: note: %v, so runs recorded there are not listed\n", fb)
				}
				type row struct {
					*store.Run
					pipeline.RunSummary
				}
				rows := make([]row, len(rs))
				now := time.Now()
				for i, r := range rs {
					if r.Status, err = pipeline.RunStatus(cmd.Context(), st, r, now); err != nil {
						return err
					}
					s, err := pipeline.Summarize(r, now)
					if err != nil {
						fmt.Fprintf(a.stderr, "tabforge: warning: %v\n", err)
					}
					rows[i] = row{r, s}
				}
				if asJSON {
					return json.NewEncoder(a.stdout).Encode(rows)
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "RUN\tCREATED\tSTATUS\tDATASET\tTARGET\tTASK\tBEST\tMETRIC\tCV\tTEST\tDURATION")
				for _, r := range rows {
					h := r.DatasetHash
					if len(h) > 12 {
						h = h[:12]
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Created.UTC().Format("2006-01-02 15:04:05"), r.Status, h, r.Target, r.Task, r.Best,
						r.Metric, metricText(r.CV), metricText(r.Test), r.Duration.Round(100*time.Millisecond))
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().IntVar(&limit, "limit", 20, "at most this many runs (0 = all)")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	show := &cobra.Command{
		Use:   "show RUN",
		Short: "Show one run (id or unique prefix) as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd, toRead, func(st store.Store) error {
				r, err := st.GetRun(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if r.Status, err = pipeline.RunStatus(cmd.Context(), st, r, time.Now()); err != nil {
					return err
				}
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			})
		},
	}
	runs.AddCommand(list, show, a.runsDiffCommand(), a.runsRemoveCommand())
	return runs
}

// withStore runs fn with the store the effective config names, closing it
// afterwards.
func (a *app) withStore(cmd *cobra.Command, use storeUse, fn func(st store.Store) error) error {
	st, err := a.storeFor(cmd, use)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}

// storeFor opens the store the effective config names.
func (a *app) storeFor(cmd *cobra.Command, use storeUse) (store.Store, error) {
	_, st, err := a.configStore(cmd, use)
	return st, err
}

// configStore loads the command's config and opens the store it names;
// the caller closes the store.
func (a *app) configStore(cmd *cobra.Command, use storeUse) (*config.Config, store.Store, error) {
	cfg, _, err := a.loadConfig(cmd)
	if err != nil {
		return nil, nil, err
	}
	st, err := a.openStore(cmd.Context(), cfg, use)
	return cfg, st, err
}

func (a *app) configCommand() *cobra.Command {
	cfgCmd := &cobra.Command{Use: "config", Short: "Inspect configuration"}
	show := &cobra.Command{
		Use:   "show",
		Short: "Print the effective config (profile < file < environment < flags) as YAML",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			b, err := cfg.Redacted().YAML()
			if err != nil {
				return err
			}
			_, err = a.stdout.Write(b)
			return err
		},
	}
	cfgCmd.AddCommand(show)
	return cfgCmd
}

// metricText prints a metric to four decimals, or "-" when absent.
func metricText(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', 4, 64)
}
