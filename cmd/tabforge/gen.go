package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/synth"
)

func (a *app) genCommand() *cobra.Command {
	gen := &cobra.Command{Use: "gen", Short: "Generate seeded synthetic data"}
	var p synth.SalesParams
	var start, driftAt, out string
	var asJSON bool
	sales := &cobra.Command{
		Use:   "sales --rows N --seed S --start DATE --months M [--drift-at YYYY-MM] --out FILE",
		Short: "Write a synthetic sales-order table (the US Regional Sales columns)",
		Long: `Sales writes a seeded, synthetic order table with the columns of the US
Regional Sales dataset; the target is order_quantity. Quantity follows a trend,
weekly and yearly seasonality, promotions, channel and product effects and the
price; --drift-at YYYY-MM shifts the market from that month (Online's share,
region, product and discount mix, warehouses: covariate shift; Online's price
elasticity and the promotion lift: concept shift). The data are synthetic.
The file is CSV (.csv, gzip-compressed for .csv.gz), or Parquet for .parquet or .pq.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usagef("gen sales: --out is required")
			}
			if err := frame.CheckOutputName(out); err != nil {
				return usagef("gen sales: --out %v", err)
			}
			var err error
			if p.Start, err = time.Parse(time.DateOnly, start); err != nil {
				return usagef("gen sales: --start %q: want YYYY-MM-DD", start)
			}
			if driftAt != "" {
				if p.DriftAt, err = time.Parse("2006-01", driftAt); err != nil {
					return usagef("gen sales: --drift-at %q: want YYYY-MM", driftAt)
				}
			}
			if p.Rows <= 0 || p.Months <= 0 {
				return usagef("gen sales: --rows and --months must be positive")
			}
			f, err := synth.Sales(cmd.Context(), p)
			if err != nil {
				return err
			}
			if err := writeGenerated(cmd.Context(), out, f); err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(map[string]any{"rows": f.NumRows(), "out": out, "hash": f.Hash()})
			}
			fmt.Fprintf(a.stdout, "wrote %d synthetic orders to %s\n", f.NumRows(), out)
			return nil
		},
	}
	fl := sales.Flags()
	fl.IntVar(&p.Rows, "rows", 100_000, "number of orders")
	fl.Uint64Var(&p.Seed, "seed", 1, "random seed: the same seed and flags give the same file")
	fl.StringVar(&start, "start", "2022-01-01", "first order day, YYYY-MM-DD")
	fl.IntVar(&p.Months, "months", 24, "months of orders")
	fl.StringVar(&driftAt, "drift-at", "", "first month of the shifted market, YYYY-MM (default: no shift)")
	fl.StringVar(&out, "out", "", "output file (.csv, .csv.gz, .parquet or .pq)")
	fl.BoolVar(&asJSON, "json", false, "print a JSON summary")
	gen.AddCommand(sales)
	return gen
}

// writeGenerated writes f to out (CSV, gzip CSV or Parquet by its name),
// stopping when ctx is done: writing millions of rows takes longer than
// generating them, and a Ctrl-C there was ignored, the command going on
// to write every row and report success. A stopped CSV write leaves
// neither out nor a temporary file. WriteParquet takes no writer to stop,
// so a Parquet file is not begun once ctx is done, and once written is
// kept and reported: an error then would leave a whole file behind a
// failed exit.
func writeGenerated(ctx context.Context, out string, f *frame.Frame) error {
	if frame.IsParquetFile(out) {
		if err := ctx.Err(); err != nil {
			return err
		}
		return frame.WriteFile(out, f)
	}
	return frame.WriteCSVFile(out, func(w io.Writer) error { return frame.WriteCSV(ctxWriter{ctx, w}, f) })
}

// ctxWriter fails every write once ctx is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
