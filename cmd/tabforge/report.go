package main

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/report"
)

// reportCommand is `tabforge report RUN [--out DIR]`: it re-derives a
// recorded run's test predictions and writes its HTML report and PNG
// charts.
func (a *app) reportCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "report RUN",
		Short: "Write a run's self-contained HTML report and PNG charts (default <out>/<run>/report)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := a.logger()
			if err != nil {
				return err
			}
			st, err := a.storeFor(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			r, err := st.GetRun(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if len(r.Result) == 0 {
				return fmt.Errorf("run %s has no result to report (status %s)", r.ID, r.Status)
			}
			var res pipeline.Result
			if err := json.Unmarshal(r.Result, &res); err != nil {
				return fmt.Errorf("run %s: result: %w", r.ID, err)
			}
			cfg := config.Default()
			if err := json.Unmarshal(r.Config, cfg); err != nil {
				return fmt.Errorf("run %s: config: %w", r.ID, err)
			}
			an, dir, err := pipeline.WriteReport(cmd.Context(), cfg, &res, out, pipeline.AnalysisOptions{Logger: log})
			if err != nil {
				return err
			}
			if an.Err != nil {
				log.Warn("report written from the run record alone", "err", an.Err)
			}
			fmt.Fprintln(a.stdout, dir+"/"+report.HTMLFile)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory to write the report into (default <out>/<run>/report)")
	return cmd
}

// trainReport writes the report of a finished training run, logging
// instead of failing: a report is a by-product of training.
func trainReport(cmd *cobra.Command, log *slog.Logger, cfg *config.Config, res *pipeline.Result) {
	a, dir, err := pipeline.WriteReport(cmd.Context(), cfg, res, "", pipeline.AnalysisOptions{Logger: log})
	if err != nil {
		log.Warn("report not written", "err", err)
		return
	}
	if a.Err != nil {
		log.Warn("report written from the run's result alone", "err", a.Err)
	}
	for _, r := range a.Rules {
		if !r.Passed {
			log.Warn("business rule failed", "rule", r.Name, "gate", r.Gate, "detail", r.Detail, "err", r.Error)
		}
	}
	log.Info("wrote report", "path", dir+"/"+report.HTMLFile)
}
