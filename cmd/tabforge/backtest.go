package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/continuous"
	"github.com/tabforge/tabforge/monitor"
)

func (a *app) backtestCommand() *cobra.Command {
	var o continuous.BacktestOptions
	var html string
	var asJSON, record bool
	cmd := &cobra.Command{
		Use:   "backtest --data F --target T --time-column C --every month|quarter|year|N --start DATE",
		Short: "Replay static, continuous and always-retrain strategies over time",
		Long: `Backtest trains a first model on the rows before --start, then walks period by
period (--every month, quarter, year, or N days; N units for a numeric time
column; with --time-column in parts, such as year,month, a date --start reads
them as year, month and day, and a number --start steps by the first part)
and scores three strategies on each period's rows: static keeps the
first model; continuous runs retrain (the real champion/challenger code, on a
private registry in --dir) on the rows before the period, holding out the
latest period, and serves the production version; always retrains on the
rows before the period and serves the new model. With --on-demand (the
default) continuous trains a challenger only when the champion's score on the
latest period fell by more than --decay below its test score, the champion
has served --max-age periods since its promotion (default 1: at least every
other period), the latest period drifts from the one before it (--on-drift),
or the champion's refresh (--refresh) does not check out or gains more than
--decay (--refresh-or-train); a challenger within the paired noise of the
champion (--tie-wins) is promoted, as it learnt the latest period. Every model learns from the period it was tested on before it
serves (refit_all; --keep-holdout turns this off).
Prints each period's scores, the mean per strategy and its training time.
--record keeps the result in the store (--store) for the dashboard's
/monitor page. With --queue URL (or --set executor=queue) the always strategy's
periods after the first are units of work for tabforge worker processes
(they are independent of each other); continuous walks the periods in this
process, since each decision depends on the registry the previous ones left.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.backtest(cmd, &o, html, asJSON, record)
		},
	}
	f := cmd.Flags()
	f.String("data", "", "data file (.csv or .parquet)")
	f.String("target", "", "target column")
	f.String("time-column", "", "time column (a datetime or a number), or numeric parts as train takes them (year,month; year,round)")
	f.StringSlice("drop", nil, "columns to leave out (comma-separated)")
	f.StringSlice("models", nil, "model families (default: all applicable)")
	f.Int("cv-folds", 5, "cross-validation folds of each training (0 = none)")
	f.Uint64("seed", 42, "random seed")
	f.StringVar(&o.Every, "every", "month", "period: month, quarter, year or N (days; units of a numeric time column)")
	f.StringVar(&o.Start, "start", "", "start of the first period (YYYY-MM-DD, or a number)")
	f.IntVar(&o.Periods, "periods", 0, "at most this many periods (0 = to the end of the data)")
	f.StringVar(&o.Dir, "dir", "", "working directory, kept (default: a temporary one, removed)")
	policyFlags(cmd, &o.Policy, false)
	f.StringVar(&html, "html", "", "write an HTML page with a chart of the scores by period")
	f.BoolVar(&record, "record", false, "also record the result in the store (--store), for tabforge ui's /monitor page")
	f.String("queue", "", "train the always strategy's periods on tabforge workers through this JetStream server (nats://HOST:PORT or embedded)")
	f.BoolVar(&asJSON, "json", false, `print {"metric", "strategies": [{"name", "mean", "train_seconds", "trainings", "refreshes", "periods"}]}`)
	return cmd
}

// backtest is the backtest command's run, apart from its flag
// declarations: it checks the config, readies o's working directory,
// logger and executor, runs continuous.Backtest and reports the result
// (HTML page, store record, then JSON or a table on stdout).
func (a *app) backtest(cmd *cobra.Command, o *continuous.BacktestOptions, html string, asJSON, record bool) error {
	cfg, _, err := a.loadConfig(cmd)
	if err != nil {
		return err
	}
	if cfg.Data == "" || cfg.Target == "" || cfg.TimeColumn == "" || o.Start == "" {
		return usagef("backtest: --data, --target, --time-column and --start are required")
	}
	if err := continuous.CheckPeriods(o.Every, o.Start); err != nil {
		return usageError{fmt.Errorf("backtest: %w", err)}
	}
	if o.Periods < 0 {
		// It ran to the end of the data, as 0 does, saying nothing.
		return usagef("backtest: --periods %d: want 0 (to the end of the data) or more", o.Periods)
	}
	if err := checkModels(cfg); err != nil {
		return err
	}
	if html != "" {
		if err := outIsNotFile("backtest", fileFlag{"--html", html}, fileFlag{"--data", cfg.Data}); err != nil {
			return err
		}
	}
	if o.Dir == "" {
		if o.Dir, err = os.MkdirTemp("", "tabforge-backtest-"); err != nil {
			return err
		}
		defer os.RemoveAll(o.Dir)
	}
	if o.Logger, err = a.logger(); err != nil {
		return err
	}
	q, err := a.unitQueue(cmd.Context(), cfg)
	if err != nil {
		return err
	}
	defer q.close()
	o.Executor, o.Share, o.CodeVersion = q.exec, q.share, q.code
	r, err := continuous.Backtest(cmd.Context(), cfg, *o)
	if err != nil {
		return err
	}
	if html != "" {
		if err := r.WriteHTML(html, "Backtest of "+cfg.Data); err != nil {
			return err
		}
	}
	var rec *monitorRecord
	if record {
		title := fmt.Sprintf("%s, target %s, every %s from %s", cfg.Data, cfg.Target, o.Every, o.Start)
		if rec, err = a.recordMonitor(cmd, monitor.BacktestKind, title, r); err != nil {
			return err
		}
	}
	if asJSON {
		return json.NewEncoder(a.stdout).Encode(struct {
			*continuous.BacktestResult
			Record *monitorRecord `json:"record,omitempty"`
		}{r, rec})
	}
	if err := printBacktest(a, r); err != nil {
		return err
	}
	rec.print(a.stdout, "backtest")
	return nil
}

func printBacktest(a *app, r *continuous.BacktestResult) error {
	w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "period\trows\t")
	for _, s := range r.Strategies {
		fmt.Fprintf(w, "%s\t", s.Name)
	}
	fmt.Fprintln(w, "decision\t")
	cont := r.Strategies[1]
	for j, p := range r.Strategies[0].Periods {
		fmt.Fprintf(w, "%s\t%d\t", p.Start, p.Rows)
		for _, s := range r.Strategies {
			fmt.Fprintf(w, "%.4f\t", s.Periods[j].Score)
		}
		fmt.Fprintf(w, "%s\t\n", cont.Periods[j].Decision)
	}
	fmt.Fprintf(w, "\nstrategy\tmean %s\ttrainings\trefreshes\ttrain seconds\t\n", r.Metric)
	for _, s := range r.Strategies {
		fmt.Fprintf(w, "%s\t%.4f\t%d\t%d\t%.1f\t\n", s.Name, s.Mean, s.Trainings, s.Refreshes, s.TrainSeconds)
	}
	return w.Flush()
}
