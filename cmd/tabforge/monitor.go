package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/continuous"
)

func (a *app) monitorCommand() *cobra.Command {
	mon := &cobra.Command{Use: "monitor", Short: "Monitor served models"}
	var logPath, actualsPath string
	var asJSON bool
	realised := &cobra.Command{
		Use:   "realised --log F --actuals F [--json]",
		Short: "Realised metrics per version and day: the prediction log joined with actual outcomes",
		Long: `Realised joins the serving prediction log (tabforge serve --prediction-log) with
a CSV file of actual outcomes (columns request_id, actual, and row for
multi-row requests) and prints each model version's realised metrics per day
of prediction: regression metrics, or the accuracy of class predictions.
The actuals' field separator is detected, or given with --sep.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if logPath == "" || actualsPath == "" {
				return usagef("monitor realised: --log and --actuals are required")
			}
			lf, err := os.Open(logPath)
			if err != nil {
				return err
			}
			defer lf.Close()
			af, err := os.Open(actualsPath)
			if err != nil {
				return err
			}
			defer af.Close()
			r, err := continuous.Realise(lf, af, a.comma)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(r)
			}
			fmt.Fprintf(a.stdout, "%d predicted rows, %d with an actual; %d actuals without a prediction, %d not known yet\n", r.Predictions, r.Joined, r.Unmatched, r.Pending)
			for _, g := range r.Groups {
				var ms []string
				for k, v := range g.Metrics {
					ms = append(ms, fmt.Sprintf("%s %.4g", k, v))
				}
				slices.Sort(ms)
				fmt.Fprintf(a.stdout, "%s  %s  %s  %d rows  %s\n", g.Day, g.Model, g.Version, g.Rows, strings.Join(ms, ", "))
			}
			return nil
		},
	}
	f := realised.Flags()
	f.StringVar(&logPath, "log", "", "prediction log (JSON lines of tabforge serve --prediction-log)")
	f.StringVar(&actualsPath, "actuals", "", "CSV of actual outcomes: request_id, actual[, row]")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	mon.AddCommand(realised)
	return mon
}
