package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/meta"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/store"
)

func (a *app) metaCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "meta", Short: "Inspect the meta-learning knowledge base"}
	var asJSON, withShipped bool
	var o meta.AdviseOptions
	show := &cobra.Command{
		Use:   "show --data PATH --target COL",
		Short: "Meta-features of a table, its nearest known datasets and the configurations to try first",
		Long: `Show computes the meta-features of the table's training part (the rows a
train run of it with the same flags asks about: --drop and the split's --time-column,
--test-rows, --test-fraction, --as-of and --seed are train's), finds the known datasets of its task
nearest to it in the store's knowledge base (every train run adds to it) over
the one shipped in the binary (--shipped=false leaves it out), lists
the configurations that did best on them, and says whether the table is far
from everything known (then a run should start cold).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			if cfg.Data == "" || cfg.Target == "" {
				return usagef("meta show: --data and --target are required")
			}
			if err := checkAdvisorFlags(o.K, o.Top, meta.RankSurrogate); err != nil {
				return err
			}
			tab, hash, err := pipeline.ReadTrainingPart(cfg)
			if err != nil {
				return err
			}
			f, err := meta.Compute(cmd.Context(), tab, meta.Options{})
			if err != nil {
				return err
			}
			return a.withStore(cmd, toRead, func(st store.Store) error {
				kb := &meta.KB{Records: st}
				if withShipped {
					if kb, err = meta.WithShipped(st); err != nil {
						return err
					}
				}
				adv, err := meta.Advise(cmd.Context(), kb, f, o)
				if err != nil {
					return err
				}
				key := meta.DatasetKey(hash, cfg.Target)
				if asJSON {
					return json.NewEncoder(a.stdout).Encode(struct {
						Data    string `json:"data"`
						Target  string `json:"target"`
						Dataset string `json:"dataset"`
						*meta.Advice
					}{cfg.Data, cfg.Target, key, adv})
				}
				return printAdvice(a.stdout, cfg.Data, key, adv)
			})
		},
	}
	fl := show.Flags()
	fl.String("data", "", "data file (.csv or .parquet)")
	fl.String("target", "", "target column")
	fl.String("task", "auto", "regression, binary, multiclass or auto")
	fl.String("positive-class", "", "positive class label for binary tasks")
	fl.StringSlice("drop", nil, "columns to leave out (comma-separated)")
	// train's split flags: the training part described is the one a run
	// with them asks about, and differs from the default one without.
	fl.String("time-column", "", "time column train splits by (or COL1,COL2 ordered lexicographically)")
	fl.String("test-rows", "", "file of 0-based data-row indices train tests on")
	fl.Float64("test-fraction", 0.2, "share of rows train holds out for testing")
	fl.String("as-of", "", "date train tests from (YYYY-MM-DD)")
	fl.Uint64("seed", 42, "train's random seed (of a random holdout)")
	fl.IntVar(&o.K, "k", 5, "nearest known datasets to draw configurations from")
	fl.IntVar(&o.Top, "top", 10, "configurations to list")
	fl.BoolVar(&asJSON, "json", false, "print the advice as one JSON object on stdout")
	fl.BoolVar(&withShipped, "shipped", true, "include the knowledge base shipped in the binary, as train does (false: the store's alone)")
	cmd.AddCommand(show, a.metaBuildCommand(), a.metaEvalCommand(), a.metaExportCommand(), a.metaImportCommand())
	return cmd
}

// printAdvice renders meta show's report.
func printAdvice(w io.Writer, data, key string, a *meta.Advice) error {
	f := a.Features
	fmt.Fprintf(w, "meta-features of %s (%s, dataset %s) in %.3f s\n", data, f.Task, key, f.Total)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  FEATURE\tVALUE\tSECONDS")
	for _, sp := range meta.Catalogue() {
		if v, ok := f.Values[sp.Name]; ok {
			fmt.Fprintf(tw, "  %s\t%.4g\t%.4f\n", sp.Name, v, f.Seconds[sp.Name])
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nknowledge base: %d known %s dataset(s); far-from-known threshold %.3f (%s)\n", a.Known, f.Task, a.Threshold, a.Rule)
	switch {
	case a.Nearest == nil:
		fmt.Fprintln(w, "verdict: far from known (no known dataset of this task): a run starts cold")
	case a.Far:
		fmt.Fprintf(w, "verdict: far from known (nearest %.3f > %.3f): a run starts cold\n", *a.Nearest, a.Threshold)
	default:
		fmt.Fprintf(w, "verdict: near known datasets (nearest %.3f <= %.3f): a run can start from their configurations\n", *a.Nearest, a.Threshold)
	}
	if len(a.Neighbours) > 0 {
		fmt.Fprintln(w, "\nnearest datasets:")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  DISTANCE\tNAME\tKEY")
		for _, n := range a.Neighbours {
			fmt.Fprintf(tw, "  %.3f\t%s\t%s\n", n.Distance, n.Name, n.Key)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(a.Configs) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nconfigurations to try first:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  #\tFAMILY\tPARAMS\tCV SCORE\tFROM\tRANK THERE")
	for i, c := range a.Configs {
		fmt.Fprintf(tw, "  %d\t%s%s\t%s\t%s %s\t%s\t%d\n", i+1, c.Family, c.Variant, paramsText(c.Params), c.Metric, formatMetric(c.Metric, c.Score), c.Name, c.Rank)
	}
	return tw.Flush()
}

// paramsText renders parameters as k=v in name order; none are the
// family defaults.
func paramsText(p map[string]any) string {
	if len(p) == 0 {
		return "defaults"
	}
	parts := make([]string, 0, len(p))
	for _, k := range slices.Sorted(maps.Keys(p)) {
		v := p[k]
		if f, ok := v.(float64); ok {
			v = strconv.FormatFloat(f, 'g', 4, 64)
		}
		parts = append(parts, fmt.Sprintf("%s=%v", k, v))
	}
	return strings.Join(parts, " ")
}
