package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
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

// configPrimaryStore loads the command's config and opens its store as
// primaryStore does.
func (a *app) configPrimaryStore(cmd *cobra.Command) (*config.Config, store.Store, error) {
	cfg, _, err := a.loadConfig(cmd)
	if err != nil {
		return nil, nil, err
	}
	st, err := a.primaryStore(cmd.Context(), cfg)
	if err != nil {
		return nil, nil, err
	}
	return cfg, st, nil
}

// primaryStore opens the store of a long-lived process that others
// write to, tabforge worker, serve and watch: on Redis, with no SQLite
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
			cfg, _, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			// An import that fails into a store it created leaves none
			// behind: an empty store at the path reads as a store that
			// holds nothing, and the next import of a mended dump would
			// go in beside whatever a partial one wrote.
			created := sqliteToCreate(cfg.Store)
			st, err := a.openStore(cmd.Context(), cfg, toWrite)
			if err != nil {
				return errors.Join(err, created.remove())
			}
			if err := a.importDump(cmd.Context(), st, f, args[0]); err != nil {
				st.Close()
				return errors.Join(err, created.remove())
			}
			return st.Close()
		},
	}
}

// importDump loads the dump f, read from path, into st.
func (a *app) importDump(ctx context.Context, st store.Store, f io.Reader, path string) error {
	n, err := store.ImportWith(ctx, st, f, store.ImportOptions{Check: registry.CheckRecord})
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	// The dump may hold registry records of an older layout, which Open
	// no longer looks for once the store records the current one.
	if err := registry.MigrateImported(ctx, st); err != nil {
		return fmt.Errorf("%s: imported, but: %w", filepath.Base(path), err)
	}
	fmt.Fprintf(a.stdout, "imported %s into %s: %d runs, %d records, %d studies, %d trials\n", path, st.URL(), n.Runs, n.Records, n.Studies, n.Trials)
	return nil
}

// createdStore is what opening an SQLite store whose file does not exist
// creates: the file, SQLite's companion files and the missing parent
// directories, deepest first. A nil *createdStore creates nothing.
type createdStore struct {
	path string
	dirs []string
}

// sqliteToCreate returns what opening the store at storeURL would create,
// or nil when it is not an SQLite store or its file exists.
func sqliteToCreate(storeURL string) *createdStore {
	if !strings.HasPrefix(storeURL, "sqlite://") {
		return nil
	}
	path, err := sqlite.FromURL(storeURL)
	if err != nil {
		return nil
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	c := &createdStore{path: path}
	for d := filepath.Dir(path); filepath.Dir(d) != d; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); !errors.Is(err, fs.ErrNotExist) {
			break
		}
		c.dirs = append(c.dirs, d)
	}
	return c
}

// remove removes what c names. A directory that holds anything else by
// now is left.
func (c *createdStore) remove() error {
	if c == nil {
		return nil
	}
	var errs []error
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if err := os.Remove(c.path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove the store it created: %w", err))
		}
	}
	for _, d := range c.dirs {
		os.Remove(d) //nolint:errcheck // not empty: someone else's now
	}
	return errors.Join(errs...)
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
