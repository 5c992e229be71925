package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/continuous"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
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
multi-row requests, counted from 0: a request's first row is row 0) and prints each model version's realised metrics per day
of prediction: regression metrics, or the accuracy of class predictions.
An actual is read as its model version read its training target: the
version's missing_values of its target, those of every column and the
target's own (read from the configured store, the one serve served it
from), are outcomes not known yet, left out and counted; a version the
store lacks uses the config's, for the config's target. A SQLite store that does not exist,
and the default store when it cannot be opened, are passed over with a
warning (in --json, "warnings"), every actual read with the config's
missing_values; a store set by --store, the environment or a config file
that cannot be opened is an error. The actuals' field separator is
detected, or given with --sep.`,
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
			missing, done := a.versionMissing(cmd)
			defer done()
			r, err := continuous.Realise(lf, af, continuous.RealiseOptions{Comma: a.comma, Missing: a.readOptions().MissingIn(a.target), ModelMissing: missing})
			if err != nil {
				return err
			}
			for _, w := range r.Warnings {
				fmt.Fprintf(a.stderr, "warning: %s\n", w)
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(r)
			}
			fmt.Fprintf(a.stdout, "%d predicted rows, %d with an actual; %d actuals without a prediction, %d not known yet\n", r.Predictions, r.Joined, r.Unmatched, r.Pending)
			why := map[string]string{}
			for _, g := range r.Groups {
				var ms []string
				for k, v := range g.Metrics {
					ms = append(ms, fmt.Sprintf("%s %.4g", k, v))
				}
				for _, k := range g.Undefined {
					ms = append(ms, k+" n/a")
					if w := eval.UndefinedWhy(k); w != "" {
						why[k] = w
					}
				}
				slices.Sort(ms)
				fmt.Fprintf(a.stdout, "%s  %s  %s  %d rows  %s\n", g.Day, g.Model, g.Version, g.Rows, strings.Join(ms, ", "))
			}
			for _, k := range slices.Sorted(maps.Keys(why)) {
				fmt.Fprintf(a.stdout, "note: %s n/a: %s\n", k, why[k])
			}
			return nil
		},
	}
	f := realised.Flags()
	f.StringVar(&logPath, "log", "", "prediction log (JSON lines of tabforge serve --prediction-log)")
	f.StringVar(&actualsPath, "actuals", "", "CSV of actual outcomes: request_id, actual[, row (from 0)]")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	mon.AddCommand(realised)
	return mon
}

// versionMissing returns a continuous.RealiseOptions.ModelMissing that
// reads a model version's missing texts of its target
// (pipeline.Predictor.TargetMissing)
// from the configured store's registry, opened on first use, and a func
// that closes it. A version the registry lacks gives none: the config's
// apply. A store that cannot be read is openVersions's to judge.
func (a *app) versionMissing(cmd *cobra.Command) (func(model, version string) ([]string, error), func()) {
	var st store.Store
	var reg *registry.Registry
	var openErr error
	get := func(_, version string) ([]string, error) {
		if reg == nil && openErr == nil {
			st, reg, openErr = a.openVersions(cmd)
		}
		if openErr != nil {
			return nil, openErr
		}
		m, err := reg.Get(cmd.Context(), version)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		p, err := pipeline.LoadVersion(cmd.Context(), m)
		if err != nil {
			return nil, err
		}
		return p.TargetMissing(), nil
	}
	return get, func() {
		if st != nil {
			st.Close()
		}
	}
}

// openVersions opens the configured store's registry for monitor
// realised, which works without it where it can: a SQLite file that does
// not exist is not created (the command only reads) and holds no version,
// and the default store, when it cannot be opened, is passed over; both
// are continuous.ErrNoModelStore, which Realise reports as a warning
// while it reads actuals with the config's missing_values. A store the
// user set (--store, TABFORGE_STORE, a config file, --set) that exists
// but cannot be opened (Redis down with store_fallback off, a file that
// is not a database) is an error naming it and where it was set: its
// versions' missing_values were asked for, and actuals read without them
// can count a "?" as a miss or stop at it.
func (a *app) openVersions(cmd *cobra.Command) (store.Store, *registry.Registry, error) {
	cfg, prov, err := a.loadConfig(cmd)
	if err != nil {
		return nil, nil, err
	}
	origin := prov.Origin("store")
	by := origin.String()
	if origin.Kind == config.FromFlag && origin.Name == "" {
		by = "--store"
	}
	url := config.RedactURL(cfg.Store)
	passed := func(cause error) error {
		return fmt.Errorf("%w: store %s: %v; actuals are read with the config's missing_values", continuous.ErrNoModelStore, url, cause)
	}
	unreadable := func(cause error) error {
		if origin.Kind > config.FromProfile {
			return fmt.Errorf("store %s (set by %s), which holds each model version's missing_values: %w", url, by, cause)
		}
		return passed(cause)
	}
	st, err := a.openStore(cmd.Context(), cfg, toRead)
	if errors.Is(err, store.ErrNoStore) {
		// No store holds no version: as for a version the store lacks,
		// the config's apply, with a warning (the path may be mistyped).
		return nil, nil, passed(err)
	}
	if err != nil {
		return nil, nil, unreadable(err)
	}
	reg, err := registry.Open(cmd.Context(), st)
	if err != nil {
		st.Close()
		return nil, nil, unreadable(err)
	}
	return st, reg, nil
}
