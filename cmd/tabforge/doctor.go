package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/failover"
	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/sqlite"
)

func (a *app) doctorCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check the store's setup and say how to fix what is wrong",
		Long: `Doctor checks the configured store: that Redis answers (with the URL's
password and TLS), persists its data (appendonly or RDB snapshots), cannot
evict runs or the registry (maxmemory-policy noeviction or volatile-*),
that the SQLite fallback is writable and that no writes wait in its journal.
An SQLite store that does not exist is said so (check the path), and
not created. It exits 1 if anything is wrong.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			problems, oks := diagnose(cmd.Context(), cfg)
			for _, ok := range oks {
				fmt.Fprintf(a.stdout, "ok       %s\n", ok)
			}
			for _, p := range problems {
				fmt.Fprintf(a.stdout, "PROBLEM  %s\n         fix: %s\n", p.What, p.Fix)
			}
			if len(problems) > 0 {
				return fmt.Errorf("%w: %d", errProblems, len(problems))
			}
			fmt.Fprintln(a.stdout, "no problems found")
			return nil
		},
	}
}

// diagnose checks cfg's store; oks lists what passed.
func diagnose(ctx context.Context, cfg *config.Config) (problems []store.Problem, oks []string) {
	// checkSQLite opens the SQLite store at path and checks it; exists
	// is false when there is no file, which is left uncreated: opening
	// would create it, and a mistyped path would pass as a new, empty
	// store and stay behind.
	checkSQLite := func(path, role string) (s *sqlite.Store, exists bool) {
		s, err := sqlite.OpenExisting(ctx, path)
		if errors.Is(err, store.ErrNoStore) {
			if p := checkCreatable(path, role); p != nil {
				problems = append(problems, *p)
			} else {
				oks = append(oks, fmt.Sprintf("%s %s does not exist yet (it holds no runs or models; the first command that writes creates it), and can be created", role, path))
			}
			return nil, false
		}
		if err != nil {
			problems = append(problems, store.Problem{What: fmt.Sprintf("%s %s cannot be opened: %v", role, path, err),
				Fix: sqliteFix(path, err)})
			return nil, true
		}
		if ps := s.Check(ctx); len(ps) > 0 {
			problems = append(problems, ps...)
		} else {
			oks = append(oks, fmt.Sprintf("%s %s is whole and writable", role, path))
		}
		return s, true
	}
	if strings.HasPrefix(cfg.Store, "sqlite://") {
		path, err := sqlite.FromURL(cfg.Store)
		if err != nil {
			return []store.Problem{{What: err.Error(), Fix: "use --store sqlite:///path/file.db"}}, nil
		}
		if s, _ := checkSQLite(path, "sqlite store"); s != nil {
			s.Close()
		}
		return problems, oks
	}
	raw, fb, err := failover.SplitFallback(cfg.Store)
	if err != nil {
		return []store.Problem{{What: err.Error(), Fix: "use --store redis://[:password@]host:port/db"}}, nil
	}
	if fb == "" {
		fb = failover.DefaultFallback
	}
	reachable := false
	if r, err := redis.Open(ctx, raw); err != nil {
		problems = append(problems, store.Problem{What: fmt.Sprintf("redis store: %v", err),
			Fix: "start redis-server, check host, port, password and TLS (rediss://) in the store URL; tabforge falls back to SQLite meanwhile"})
	} else {
		reachable = true
		if ps := r.Check(ctx); len(ps) > 0 {
			problems = append(problems, ps...)
		} else {
			oks = append(oks, fmt.Sprintf("redis %s answers, persists (AOF or RDB) and never evicts keys without a TTL", r.URL()))
		}
		r.Close()
	}
	s, exists := checkSQLite(fb, "sqlite fallback")
	if !exists {
		oks = append(oks, "no journalled writes wait for redis")
	}
	if s != nil {
		pend, err := s.PendingWrites(ctx)
		switch {
		case err != nil:
			problems = append(problems, store.Problem{What: fmt.Sprintf("journal of %s: %v", fb, err), Fix: "check the fallback file"})
		case len(pend) > 0 && reachable:
			problems = append(problems, store.Problem{What: fmt.Sprintf("%d writes made while redis was down wait in %s", len(pend), fb),
				Fix: "tabforge store sync"})
		case len(pend) > 0:
			problems = append(problems, store.Problem{What: fmt.Sprintf("%d writes made while redis was down wait in %s", len(pend), fb),
				Fix: "bring redis back, then tabforge store sync"})
		default:
			oks = append(oks, "no journalled writes wait for redis")
		}
		s.Close()
	}
	return problems, oks
}

// checkCreatable checks, without creating anything of its own, that the
// SQLite store at path, which does not exist, can be created: its nearest
// existing ancestor directory takes a file (sqlite.Open creates the
// directories between).
func checkCreatable(path, role string) *store.Problem {
	dir := filepath.Dir(path)
	for {
		fi, err := os.Stat(dir)
		if err == nil && fi.IsDir() {
			break
		}
		if parent := filepath.Dir(dir); err != nil && errors.Is(err, fs.ErrNotExist) && parent != dir {
			dir = parent
			continue
		}
		return &store.Problem{What: fmt.Sprintf("%s %s does not exist, and cannot be created: %s is not a directory", role, path, dir), Fix: sqliteFix(path, nil)}
	}
	f, err := os.CreateTemp(dir, ".tabforge-doctor-*")
	if err != nil {
		return &store.Problem{What: fmt.Sprintf("%s %s does not exist, and cannot be created: %v", role, path, err), Fix: sqliteFix(path, nil)}
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// isSQLite reports whether the file at path starts with SQLite's header.
func isSQLite(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return true // unreadable: its content says nothing
	}
	defer f.Close()
	head := make([]byte, 16)
	_, err = io.ReadFull(f, head)
	return err == nil && string(head) == "SQLite format 3\x00"
}

// sqliteFix says how to fix an SQLite store that cannot be opened (with
// openErr; nil when it was not tried), by what its path names: a
// directory, an existing file that is not a database or that SQLite
// finds damaged (a writable directory would not help), or nothing the
// process can create.
func sqliteFix(path string, openErr error) string {
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return "the path is a directory: name a file in it, e.g. --store sqlite://" + filepath.Join(path, "tabforge.db")
	case err == nil && fi.Size() > 0 && !isSQLite(path):
		return "the file is not a readable SQLite database: restore it from a backup (tabforge store import) or choose another path"
	case err == nil && fi.Size() > 0 && sqlite.IsCorrupt(openErr):
		// Its header is SQLite's, its content damaged (a truncated copy,
		// a failing disk): permissions and locks are not the cause.
		return "the SQLite database is damaged: restore it from a backup (tabforge store import) or choose another path"
	case err == nil && fi.Size() > 0:
		// A database that will not open: the restore advice above would
		// have a user replace a healthy file.
		return "the file is an SQLite database that cannot be opened: check its and its directory's permissions, and that no other process holds it locked"
	}
	return "make its directory writable or choose another path"
}
