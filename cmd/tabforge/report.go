package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/report"
	"github.com/tabforge/tabforge/store"
)

// reportCommand is `tabforge report RUN [--out DIR] [--curves]
// [--bias-variance-rounds N]`: it re-derives a recorded run's test
// predictions and writes its HTML report and PNG charts, optionally with
// the costly parts train leaves out by default.
func (a *app) reportCommand() *cobra.Command {
	var out string
	var curves bool
	var rounds int
	cmd := &cobra.Command{
		Use:   "report RUN",
		Short: "Write a run's self-contained HTML report and PNG charts (default <out>/<run>/report)",
		Long: `Report re-derives a recorded run's test predictions from its config, data (which
must still have the same hash) and saved model, and writes report.html (self-contained,
works offline), report.json and PNG charts: data overview, leaderboard, confusion
matrix, ROC and precision-recall curves and a threshold table (classification),
predictions and residuals, error analysis, SHAP summary and dependence, feature
importance, partial dependence and ICE, business rules, gates, segments, and the
best model's parameters with the effective config. --curves adds the learning and validation
curves of the best single model family (config key report_curves) and
--bias-variance-rounds N a bootstrap bias-variance decomposition per family
(bias_variance_rounds); both refit models, so they take longer.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := a.logger()
			if err != nil {
				return err
			}
			return a.withStore(cmd, toRead, func(st store.Store) error {
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
				// The config holds the data and output paths as train was
				// given them, relative to where it ran; the run record
				// holds the data's and the model's absolute paths. From
				// another directory, the relative ones named nothing (or
				// other files).
				if filepath.IsAbs(r.DatasetPath) {
					cfg.Data = r.DatasetPath
				}
				if out == "" && filepath.IsAbs(res.ModelPath) {
					out = filepath.Join(filepath.Dir(res.ModelPath), "report")
				}
				if cmd.Flags().Changed("curves") {
					cfg.ReportCurves = curves
				}
				if cmd.Flags().Changed("bias-variance-rounds") {
					if rounds != 0 && rounds < 2 {
						return usagef("report: --bias-variance-rounds must be 0 (off) or at least 2, not %d", rounds)
					}
					cfg.BiasVarianceRounds = rounds
				}
				// Strict: a report from the run record alone would replace
				// the complete one train wrote, and drop what was asked for.
				_, dir, err := pipeline.WriteReport(cmd.Context(), cfg, &res, out, pipeline.AnalysisOptions{Logger: log, Strict: true})
				if err != nil {
					return fmt.Errorf("report %s, nothing written: %w", r.ID, err)
				}
				fmt.Fprintln(a.stdout, dir+"/"+report.HTMLFile)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory to write the report into (default <out>/<run>/report)")
	cmd.Flags().BoolVar(&curves, "curves", false, "add learning and validation curves (default: the run's report_curves)")
	cmd.Flags().IntVar(&rounds, "bias-variance-rounds", 0, "bootstrap rounds of a bias-variance decomposition per family (default: the run's bias_variance_rounds)")
	return cmd
}
