package main

import (
	"encoding/json"
	"os"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/ui/uibench"
)

func (a *app) benchUICommand() *cobra.Command {
	var o uibench.Options
	var asJSON, noBrowser bool
	cmd := &cobra.Command{
		Use:   "ui [--runs 10000] [--trials 10000] [--redis URL] [--chromium /usr/bin/chromium]",
		Short: "Time the dashboard's pages over 10,000 synthetic runs and trials, in SQLite and Redis",
		Long: `ui fills a temporary SQLite store (and, with --redis, the Redis server at URL
under a fresh key prefix, deleted at the end) with --runs synthetic runs and a
study of --trials trials, then times the runs page (/ and a filtered, sorted
page deep in the list) and the study page: the first render after filling and
the median of --repeat renders, as server time in this process, and the median
time to a loaded page (HTML, style sheet and script) in headless Chromium, a
fresh browser process each time. The issue's targets: < 1 s server time,
< 2 s in Chromium.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Log = a.stderr
			if noBrowser {
				o.Chromium = ""
			} else if _, err := os.Stat(o.Chromium); err != nil {
				return usagef("bench ui: --chromium %s: %v (or --no-browser)", o.Chromium, err)
			}
			res, err := uibench.Run(cmd.Context(), o)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(res)
			}
			return uibench.Print(a.stdout, res)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Runs, "runs", 10_000, "synthetic runs")
	f.IntVar(&o.Trials, "trials", 10_000, "trials of the synthetic study")
	f.StringVar(&o.Redis, "redis", "", "also time a Redis store at this URL (a fresh key prefix, removed at the end)")
	f.StringVar(&o.Chromium, "chromium", "/usr/bin/chromium", "headless Chromium for the rendered-page time")
	f.BoolVar(&noBrowser, "no-browser", false, "server time only")
	f.IntVar(&o.Repeat, "repeat", 5, "renders per page (the median is reported)")
	f.Uint64Var(&o.Seed, "seed", 1, "seed of the synthetic runs and trials")
	f.BoolVar(&asJSON, "json", false, "print the timings as JSON")
	return cmd
}
