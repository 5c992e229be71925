package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/failover"
	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/sqlite"
)

// storeUse says what a command does with its store: only one that writes
// creates an SQLite store that does not exist yet. One that only reads
// says there is none, rather than leave an empty store behind a mistyped
// path and report that it holds nothing.
type storeUse int

const (
	toWrite storeUse = iota
	toRead
)

// openStore opens the store cfg.Store names. A Redis store falls back to
// SQLite (with a warning) when unreachable, unless store_fallback is off.
func (a *app) openStore(ctx context.Context, cfg *config.Config, use storeUse) (store.Store, error) {
	return a.openStoreOpts(ctx, cfg, failover.Options{Existing: use == toRead})
}

// noStoreError is a read of an SQLite store whose file does not exist.
type noStoreError struct{ path string }

func (e noStoreError) Error() string {
	return fmt.Sprintf("no store at %s: nothing has been trained into it (train creates it; check the store URL, --store or the config's store)", e.path)
}

func (e noStoreError) Unwrap() error { return store.ErrNoStore }

func (a *app) openStoreOpts(ctx context.Context, cfg *config.Config, o failover.Options) (store.Store, error) {
	if !strings.HasPrefix(cfg.Store, "sqlite://") && !strings.HasPrefix(cfg.Store, "redis://") && !strings.HasPrefix(cfg.Store, "rediss://") {
		return nil, usagef("store: %q is not a store URL (want sqlite:///path/file.db or redis://host:port/db)", cfg.Store)
	}
	log, err := a.logger()
	if err != nil {
		return nil, err
	}
	o.Logger, o.NoFallback = log, !cfg.StoreFallback
	st, err := failover.Open(ctx, cfg.Store, o)
	if errors.Is(err, store.ErrNoStore) {
		path, _ := sqlite.FromURL(cfg.Store) // Open parsed it
		return nil, noStoreError{path}
	}
	return st, err
}

// primaryStore opens the store of a long-lived process that others
// write to, tabforge worker and tabforge serve: on Redis, with no SQLite
// fallback. A failover store stays on its fallback for the rest of the
// process, which holds none of what other processes write to Redis: a
// worker that met Redis down once failed every later unit ("run ... is
// not in this worker's store"), and every train with it, and serve
// stopped seeing promotions and rollbacks, until restarted. On plain
// Redis what needs the store fails while Redis is down (a worker hands
// the unit back, serve keeps the versions it has loaded) and works again
// once it answers. Other URLs open as openStore opens them.
func (a *app) primaryStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	if !strings.HasPrefix(cfg.Store, "redis://") && !strings.HasPrefix(cfg.Store, "rediss://") {
		return a.openStore(ctx, cfg, toWrite)
	}
	raw, _, err := failover.SplitFallback(cfg.Store)
	if err != nil {
		return nil, err
	}
	conn, o, err := redis.ParseURL(raw)
	if err != nil {
		return nil, err
	}
	return redis.New(conn, o), nil
}

func (a *app) storeCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "store", Short: "Synchronise, back up and restore the store"}
	cmd.AddCommand(a.storeSyncCommand(), a.storeExportCommand(), a.storeImportCommand())
	return cmd
}

func (a *app) storeSyncCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "sync",
		Short: "Replay writes journalled in SQLite while Redis was down",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			st, err := a.openStoreOpts(cmd.Context(), cfg, failover.Options{NoSync: true})
			if err != nil {
				return err
			}
			defer st.Close()
			fs, ok := st.(*failover.Store)
			if !ok {
				fmt.Fprintf(a.stdout, "%s is not a Redis store: nothing to sync\n", st.URL())
				return nil
			}
			n, err := fs.Sync(cmd.Context())
			if err != nil {
				return fmt.Errorf("%w (%d journal entries pending in %s)", err, n.Left, fs.Fallback().Path())
			}
			fmt.Fprintf(a.stdout, "synced to %s: %d runs, %d records, %d studies, %d trials\n", fs.URL(), n.Runs, n.Records, n.Studies, n.Trials)
			if n.PrimaryLost {
				fmt.Fprintf(a.stdout, "redis lost its data since the journal was written: each journalled key it lacked got the fallback's value; what it held before and the fallback never had is gone\n")
			}
			for _, c := range n.Conflicts {
				fmt.Fprintf(a.stdout, "kept redis's %s: the fallback's was written over another state or under a lease taken over since (its value stays in %s)\n", c, fs.Fallback().Path())
			}
			return nil
		},
	}
}

func (a *app) storeExportCommand() *cobra.Command {
	var withCache bool
	export := &cobra.Command{
		Use:   "export FILE",
		Short: "Write runs, records (registry, versions, logs), studies and trials to a JSON-lines dump (FILE - for stdout)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd, toRead, func(st store.Store) error {
				if fs, ok := st.(*failover.Store); ok && fs.Down() {
					return fmt.Errorf("store export: %s is unreachable; the SQLite fallback %s holds only what was written during outages, not a backup of it (export it with --store sqlite://%s if that is what you want)",
						fs.URL(), fs.Fallback().Path(), fs.Fallback().Path())
				}
				var buf strings.Builder
				n, err := store.Export(cmd.Context(), st, &buf, withCache)
				if err != nil {
					return err
				}
				// "-" is stdout, as for tar and pg_dump, so a dump can be
				// piped or compressed on the way; the summary then goes to
				// stderr, out of the dump.
				summary, to := a.stdout, args[0]
				if to == "-" {
					if _, err := io.WriteString(a.stdout, buf.String()); err != nil {
						return err
					}
					summary, to = a.stderr, "stdout"
				} else if err := model.WriteFileAtomic(to, []byte(buf.String())); err != nil {
					return err
				}
				fmt.Fprintf(summary, "exported %s to %s: %d runs, %d records, %d studies, %d trials\n", config.RedactURL(st.URL()), to, n.Runs, n.Records, n.Studies, n.Trials)
				return nil
			})
		},
	}
	export.Flags().BoolVar(&withCache, "cache", false, "include the step cache (it can be recomputed)")
	return export
}

func (a *app) storeImportCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE",
		Short: "Load a dump written by store export; existing keys are replaced",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			return a.withStore(cmd, toWrite, func(st store.Store) error {
				n, err := store.ImportWith(cmd.Context(), st, f, store.ImportOptions{Check: registry.CheckRecord})
				if err != nil {
					return fmt.Errorf("%s: %w", filepath.Base(args[0]), err)
				}
				// The dump may hold registry records of an older layout,
				// which Open no longer looks for once the store records
				// the current one.
				if err := registry.MigrateImported(cmd.Context(), st); err != nil {
					return fmt.Errorf("%s: imported, but: %w", filepath.Base(args[0]), err)
				}
				fmt.Fprintf(a.stdout, "imported %s into %s: %d runs, %d records, %d studies, %d trials\n", args[0], st.URL(), n.Runs, n.Records, n.Studies, n.Trials)
				return nil
			})
		},
	}
}

func (a *app) runsDiffCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Show the config keys and metrics that differ between two runs",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd, toRead, func(st store.Store) error {
				ra, err := st.GetRun(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				rb, err := st.GetRun(cmd.Context(), args[1])
				if err != nil {
					return err
				}
				changes, err := store.Diff(ra, rb)
				if err != nil {
					return err
				}
				if asJSON {
					if changes == nil {
						changes = []store.Change{}
					}
					return json.NewEncoder(a.stdout).Encode(changes)
				}
				if len(changes) == 0 {
					fmt.Fprintf(a.stdout, "runs %s and %s have the same config and metrics\n", ra.ID, rb.ID)
					return nil
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintf(tw, "KEY\t%s\t%s\n", ra.ID, rb.ID)
				for _, c := range changes {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Key, orDash(c.A), orDash(c.B))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the changes as JSON")
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// errProblems makes doctor exit 1 after printing what it found.
var errProblems = errors.New("doctor found problems")
