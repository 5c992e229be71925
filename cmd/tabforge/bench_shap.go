package main

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/bench"
)

func (a *app) benchSHAPCommand() *cobra.Command {
	var o bench.SHAPOptions
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "shap [--data testdata/ames.csv --target Sale_Price] [--rows 10000]",
		Short: "Time TreeSHAP against XGBoost's pred_contribs on the same gbdt model",
		Long: `Shap trains a gbdt (100 trees of depth 6 by default) on the data, tiles its rows to
--rows, and times tabforge's exact TreeSHAP in this process against XGBoost's
Booster.predict(pred_contribs=True) on the same model exported to XGBoost JSON,
under /usr/bin/python3: the median of --runs timed runs after a warm-up on each
side, both with --threads threads. It prints both rates, the ratio
tabforge/XGBoost and the largest relative difference between the two outputs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// bench.SHAPOptions reads 0 as its default: a 0 or negative
			// flag would be run as the default and printed as such.
			for _, f := range []struct {
				name string
				v    int
			}{{"rows", o.Rows}, {"trees", o.Trees}, {"depth", o.Depth}, {"runs", o.Runs}, {"threads", o.Threads}} {
				if f.v < 1 {
					return usagef("bench shap: --%s %d: at least 1", f.name, f.v)
				}
			}
			res, err := bench.RunSHAP(cmd.Context(), o)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(res)
			}
			return bench.PrintSHAP(a.stdout, res)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Data, "data", "testdata/ames.csv", "CSV file")
	f.StringVar(&o.Target, "target", "Sale_Price", "numeric target column (excluded from the features)")
	f.IntVar(&o.Rows, "rows", 10_000, "rows explained (the data's rows tiled)")
	f.IntVar(&o.Trees, "trees", 100, "gbdt trees")
	f.IntVar(&o.Depth, "depth", 6, "gbdt max depth")
	f.IntVar(&o.Runs, "runs", 3, "timed runs per side (median)")
	f.IntVar(&o.Threads, "threads", 2, "threads per side")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}
