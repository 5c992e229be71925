package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/continuous"
	"github.com/tabforge/tabforge/store"
)

// watch's defaults: an hour between scans; a file written to within the
// last 5 s may be incomplete.
const (
	defaultEvery  = time.Hour
	defaultSettle = 5 * time.Second
)

const watchLong = `Watch scans DIR every --every for data files (.csv, .csv.gz, .parquet,
.pq) and runs retrain of NAME on each file whose content (SHA-256) it has
not handled before, oldest first, with retrain's policy flags and defaults
(see 'tabforge retrain --help'). Handled versions are kept in the store, so a restarted watch, a
copy or a renamed file handles nothing again; a rewritten file with new
content is new. A file retrain fails on is recorded as an error and not
retried, unless the failure is outside the file (the store, the work
directory or the artifact store: a full disk, a missing directory); then
the scan stops with that error and the file is retried (a watcher exits
on such an error in its first scan only; later ones are logged and the
next scan tries again). --once scans once
and exits (for cron and tests), with status 1 when a version it handled
failed (recorded all the same, so the next scan does not retry it);
--status lists the versions handled. 'tabforge serve' on the same store serves a promoted
challenger without a restart. Ctrl-C or SIGTERM stops a watcher (exit 0);
a file it was retraining on is retried by the next one.`

func (a *app) watchCommand() *cobra.Command {
	var o continuous.WatchOptions
	var dir, stage string
	var once, status, asJSON bool
	cmd := &cobra.Command{
		Use:   "watch --name NAME --dir DIR [--every 1h] [--once]",
		Short: "Retrain a registered model on every new data file in a directory",
		Long:  watchLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Name == "" || (o.Dir == "" && !status) {
				return usagef("watch: --name and --dir are required")
			}
			if o.Every <= 0 {
				return usagef("watch: --every must be positive")
			}
			if o.Settle < 0 {
				// It read as 0 (no wait), so a file still being written
				// could be retrained on.
				return usagef("watch: --settle %s: want 0 (no wait) or more", o.Settle)
			}
			if asJSON && !once && !status {
				// A running watcher prints no document: said, rather than a
				// script waiting on stdout for JSON that never comes.
				return usagef("watch: --json needs --once or --status (a running watcher logs to stderr; --log-format json makes that JSON lines)")
			}
			var err error
			if o.Policy.Stage, err = servingStage("watch", stage); err != nil {
				return err
			}
			// On Redis a watcher reads and writes Redis alone, as serve and
			// worker do: one that met Redis down once stayed on its SQLite
			// fallback, registering challengers where serve never looks.
			// A scan during an outage fails and the next one retries.
			cfg, st, err := a.configPrimaryStore(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			ctx := cmd.Context()
			if status {
				return a.printWatched(cmd, st, o.Name, asJSON)
			}
			if o.Logger, err = a.logger(); err != nil {
				return err
			}
			env, closeArts, err := a.retrainEnv(ctx, cfg, st, dir)
			if err != nil {
				return err
			}
			defer closeArts()
			if once {
				return a.watchOnce(ctx, env, st, o, asJSON)
			}
			err = continuous.Watch(ctx, env, st, o)
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				// Ctrl-C or SIGTERM is how a watcher stops, as serve,
				// ui and worker do: a clean exit. A file it was at is
				// not recorded, so the next watcher retries it.
				o.Logger.Info("watch: stopped", "name", o.Name)
				return nil
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Name, "name", "", "registered model name; its production version is the champion")
	f.StringVar(&o.Dir, "dir", "", "directory watched for data files (.csv, .csv.gz, .parquet, .pq)")
	f.DurationVar(&o.Every, "every", defaultEvery, "time between scans")
	f.DurationVar(&o.Settle, "settle", defaultSettle, "skip files modified less than this long ago (still being written)")
	f.BoolVar(&once, "once", false, "scan once and exit")
	f.BoolVar(&status, "status", false, "list the data versions handled for --name and exit")
	f.StringVar(&dir, "work-dir", ".tabforge/continuous", "directory for retrain's held-out rows and runs (keep it between retrains)")
	f.StringVar(&stage, "stage", "production", "where a winning challenger goes: production or staging")
	policyFlags(cmd, &o.Policy, true)
	f.BoolVar(&asJSON, "json", false, "with --once or --status: print the versions as JSON")
	return cmd
}

// watchOnce scans once, prints what it handled, and fails when a version
// it handled failed.
func (a *app) watchOnce(ctx context.Context, env continuous.Env, st store.Claimer, o continuous.WatchOptions, asJSON bool) error {
	done, err := continuous.WatchOnce(ctx, env, st, o)
	if perr := a.printHandled(done, asJSON); err == nil {
		err = perr
	}
	if err == nil {
		err = failedVersions(done)
	}
	return err
}

func (a *app) printWatched(cmd *cobra.Command, st store.Records, name string, asJSON bool) error {
	hs, err := continuous.Watched(cmd.Context(), st, name)
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(a.stdout).Encode(hs)
	}
	for _, h := range hs {
		fmt.Fprintf(a.stdout, "%s  %s  %s  %s: %s\n", h.Time.UTC().Format("2006-01-02 15:04:05"), h.Hash[:12], h.Path, h.Decision, h.Reason)
	}
	return nil
}

// printHandled prints what one scan handled, as text or JSON.
func (a *app) printHandled(done []continuous.Handled, asJSON bool) error {
	if asJSON {
		if done == nil {
			done = []continuous.Handled{} // [] rather than null
		}
		return json.NewEncoder(a.stdout).Encode(done)
	}
	for _, h := range done {
		fmt.Fprintf(a.stdout, "%s %s: %s: %s\n", h.Path, h.Hash[:12], h.Decision, h.Reason)
	}
	fmt.Fprintf(a.stdout, "%d new data versions handled\n", len(done))
	return nil
}

// failedVersions is the error --once exits with when retrain failed on
// some of the versions it handled, so that cron reports them.
func failedVersions(done []continuous.Handled) error {
	var failed []string
	for _, h := range done {
		if h.Decision == "error" {
			failed = append(failed, filepath.Base(h.Path))
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return fmt.Errorf("watch: retrain failed on %d of %d new data versions (%s); recorded, not retried",
		len(failed), len(done), strings.Join(failed, ", "))
}
