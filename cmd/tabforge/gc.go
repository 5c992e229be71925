package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/housekeeping"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/sqlite"
)

func (a *app) gcCommand() *cobra.Command {
	var p housekeeping.Policy
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "gc [--keep-last N] [--older-than DURATION] [--history-older-than DURATION] [--dry-run]",
		Short: "Remove old runs, their model files, the versions only they produced, and old registry history",
		Long: `Gc removes the runs that are not among the --keep-last newest and finished more than
--older-than ago (both rules apply when both are given), each with its saved model directory,
and the registered model versions (record and artifact) that only removed runs produced.
It never removes a version that holds production or staging, one a rollback would return to,
an aliased one or one a traffic route names, nor the runs those versions came from, nor a running run (a run whose
process was killed is interrupted, and goes like a finished one). On an SQLite store,
whose step cache has no bound of its own, it also removes the cache records last written
before the runs it removes (so with --keep-last alone, before the Nth newest run; never
before a running run), then, if at least a quarter of the file is free pages, runs VACUUM
to give them back to the file system. VACUUM rewrites the file and holds off other
processes' writes while it runs (they wait up to 10 s). A Redis store bounds its cache
itself (cache_ttl, cache_max).

--history-older-than DURATION also removes the registry's history events (promotions,
rollbacks, alias and route changes, retrain decisions) older than DURATION, except, per
model name, each version's newest event that put it in a stage and the newest events behind
its current aliases and route; stages, rollback, models list and retrain's max age do not
read the history, so they answer the same afterwards. Without it the history is kept; with
it alone, no run is removed. Durations are Go's (720h) or whole days (30d).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if p.KeepLast < 0 || (p.KeepLast == 0 && p.OlderThan == 0 && p.HistoryOlderThan == 0) {
				return usagef("gc: give --keep-last N (N > 0) and/or --older-than DURATION (e.g. 720h or 30d), or --history-older-than DURATION")
			}
			return a.collect(cmd, p, asJSON)
		},
	}
	cmd.Flags().IntVar(&p.KeepLast, "keep-last", 0, "keep the N newest runs")
	cmd.Flags().Var((*age)(&p.OlderThan), "older-than", "remove only runs older than this (e.g. 720h or 30d)")
	cmd.Flags().Var((*age)(&p.HistoryOlderThan), "history-older-than", "also remove registry history events older than this (e.g. 720h or 30d), keeping those behind current stages, aliases and routes")
	reportFlags(cmd, &p, &asJSON)
	return cmd
}

func (a *app) runsRemoveCommand() *cobra.Command {
	var p housekeeping.Policy
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "rm RUN...",
		Short: "Remove runs, their model files and the versions only they produced",
		Long: `Rm removes the named runs (ids or unique prefixes) as gc would. A run whose model version
holds a stage or an alias (or that a rollback would return to, or a traffic route names) is
refused, naming the use.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p.Runs = args
			return a.collect(cmd, p, asJSON)
		},
	}
	reportFlags(cmd, &p, &asJSON)
	return cmd
}

// age is a duration flag that also takes whole days ("30d"), the unit
// retention is thought in; it must be positive.
type age time.Duration

func (d *age) String() string { return time.Duration(*d).String() }
func (d *age) Type() string   { return "duration" }

func (d *age) Set(s string) error {
	v, err := time.ParseDuration(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, serr := fmt.Sscanf(days, "%d", &n); serr == nil && strconv.Itoa(n) == days {
			v, err = time.Duration(n)*24*time.Hour, nil
		}
	}
	if err != nil {
		return fmt.Errorf("want a duration such as 720h or 30d")
	}
	if v <= 0 {
		return fmt.Errorf("want a positive duration such as 720h or 30d")
	}
	*d = age(v)
	return nil
}

// reportFlags adds the flags gc and runs rm share.
func reportFlags(cmd *cobra.Command, p *housekeeping.Policy, asJSON *bool) {
	cmd.Flags().BoolVar(&p.DryRun, "dry-run", false, "print what would be removed, remove nothing")
	cmd.Flags().BoolVar(asJSON, "json", false, "print the report as JSON")
}

// collect runs housekeeping on the configured store, registry and
// artifacts, then compacts an SQLite store.
func (a *app) collect(cmd *cobra.Command, p housekeeping.Policy, asJSON bool) error {
	ctx := cmd.Context()
	cfg, _, err := a.loadConfig(cmd)
	if err != nil {
		return err
	}
	st, err := a.openStore(ctx, cfg, toRead)
	if err != nil {
		return err
	}
	defer st.Close()
	reg, err := registry.Open(ctx, st)
	if err != nil {
		return err
	}
	arts, err := artifact.Open(ctx, cfg.Artifacts)
	if err != nil {
		return err
	}
	defer arts.Close()
	rep, err := housekeeping.Collect(ctx, housekeeping.Env{Store: st, Registry: reg, Artifacts: arts}, p)
	if err != nil {
		return err
	}
	vacuumed, err := vacuum(ctx, st, cfg.Store, p.DryRun)
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(a.stdout).Encode(struct {
			*housekeeping.Report
			StoreBytesFreed int64 `json:"store_bytes_freed"`
		}{rep, vacuumed})
	}
	if p.KeepLast > 0 || p.OlderThan > 0 || len(p.Runs) > 0 {
		printCollected(a.stdout, rep, vacuumed)
	} else if vacuumed > 0 {
		defer fmt.Fprintf(a.stdout, "the store file shrank by %s\n", humanBytes(vacuumed))
	}
	printPruned(a.stdout, rep)
	return nil
}

func removeVerb(rep *housekeeping.Report) string {
	if rep.DryRun {
		return "would remove"
	}
	return "removed"
}

// printPruned prints what pruning the registry's history removed, per
// name.
func printPruned(w io.Writer, rep *housekeeping.Report) {
	h := rep.History
	if h == nil {
		return
	}
	total, kept := 0, 0
	for _, n := range h.Removed {
		total += n
	}
	for _, n := range h.Kept {
		kept += n
	}
	fmt.Fprintf(w, "%s %d registry history events from before %s", removeVerb(rep), total, h.Before.Format("2006-01-02 15:04 MST"))
	if kept > 0 {
		fmt.Fprintf(w, ", kept %d that explain current stages and aliases", kept)
	}
	fmt.Fprintln(w)
	names := slices.Sorted(maps.Keys(h.Removed))
	for _, name := range names {
		label := name
		if label == "" {
			label = "(versions removed before names)"
		}
		fmt.Fprintf(w, "  %s: %d\n", label, h.Removed[name])
	}
}

func printCollected(w io.Writer, rep *housekeeping.Report, vacuumed int64) {
	verb := removeVerb(rep)
	for _, id := range rep.Runs {
		fmt.Fprintf(w, "%s run %s\n", verb, id)
	}
	for _, v := range rep.Versions {
		fmt.Fprintf(w, "%s model version %s\n", verb, v)
	}
	fmt.Fprintf(w, "%s %d runs and %d model versions, %s of files and artifacts", verb, len(rep.Runs), len(rep.Versions), humanBytes(rep.Bytes))
	if rep.CacheRecords > 0 {
		fmt.Fprintf(w, ", and %d step cache records (%s)", rep.CacheRecords, humanBytes(rep.CacheBytes))
	}
	if vacuumed > 0 {
		fmt.Fprintf(w, "; the store file shrank by %s", humanBytes(vacuumed))
	}
	fmt.Fprintln(w)
}

// minVacuumShare is the share of free pages below which gc leaves an
// SQLite store as it is: VACUUM rewrites the whole file, holding the write
// lock throughout (other processes' writes wait up to 10 s, then fail),
// so a routine gc that freed little must not pay that on a large store.
const minVacuumShare = 0.25

// vacuum compacts an SQLite store whose free pages are at least
// minVacuumShare of its file and returns how much the file shrank.
func vacuum(ctx context.Context, st store.Store, url string, dry bool) (int64, error) {
	v, ok := st.(interface {
		Vacuum(context.Context) error
		FreeShare(context.Context) (float64, error)
	})
	if !ok || dry {
		return 0, nil
	}
	if share, err := v.FreeShare(ctx); err != nil || share < minVacuumShare {
		return 0, err
	}
	path, err := sqlite.FromURL(url)
	if err != nil {
		return 0, nil
	}
	// The write-ahead log counts: VACUUM goes through it (see Vacuum).
	size := func() int64 { return fileSize(path) + fileSize(path+"-wal") }
	before := size()
	if err := v.Vacuum(ctx); err != nil {
		return 0, err
	}
	return max(0, before-size()), nil
}

func fileSize(path string) int64 {
	info, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return info.Size()
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
