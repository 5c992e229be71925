package main

import (
	"encoding/json"
	"time"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/bench/servebench"
)

func (a *app) benchServeCommand() *cobra.Command {
	var o servebench.Options
	var asJSON bool
	var gcPercent int
	cmd := &cobra.Command{
		Use:   "serve [--data testdata/ames.csv --target Sale_Price] [--model model.tfm] [--duration 10s]",
		Short: "Load-test tabforge serve on loopback: latency at fixed rates, batch throughput, hot swaps",
		Long: `Serve trains the production model on --data as tabforge train would (or takes the
saved model file --model), registers it as two versions of one name in a temporary
SQLite store, and serves it in this process on 127.0.0.1 (a random port). vegeta,
in the same process, then sends single-row MLflow requests (dataframe_split rows of
--data) at each --rates rate for --duration, printing p50/p90/p99/max latency and
errors per rate; times a --batch-rows batch (JSON and CSV) --batch-runs times; and
runs --clients clients flat out through --swaps alternating promotions and
rollbacks, printing failed requests and the longest time from a registry change to
the first answer from the new version. Everything is removed when it ends.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			setGCPercent(cmd.Flags(), gcPercent) // as tabforge serve
			o.Log = a.stderr
			res, err := servebench.Run(cmd.Context(), o)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(res)
			}
			return servebench.Print(a.stdout, res)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Data, "data", "testdata/ames.csv", "CSV file of the request rows (and the training data without --model)")
	f.StringVar(&o.Target, "target", "Sale_Price", "target column (dropped from the request rows)")
	f.StringVar(&o.TimeColumn, "time-column", "Year_Sold,Mo_Sold", "train's --time-column (without --model)")
	f.StringSliceVar(&o.Models, "models", nil, "train's --models (default: train's default, the production model)")
	f.StringVar(&o.Model, "model", "", "serve this saved model file instead of training one")
	f.StringVar(&o.Name, "name", "", "registered name (default: the data file's stem)")
	f.IntSliceVar(&o.Rates, "rates", []int{500, 1000, 2000}, "single-row request rates per second")
	f.DurationVar(&o.Duration, "duration", 10*time.Second, "length of each rate")
	f.IntVar(&o.BatchRows, "batch-rows", 10_000, "rows of the batch request (the data's rows repeated)")
	f.IntVar(&o.BatchRuns, "batch-runs", 10, "times the batch is sent")
	f.IntVar(&o.Clients, "clients", 4, "clients during the swaps")
	f.IntVar(&o.Swaps, "swaps", 20, "alternating promotions and rollbacks")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	gcPercentFlag(f, &gcPercent)
	return cmd
}
