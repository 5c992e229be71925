package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

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
		Use:   "gc [--keep-last N] [--older-than DURATION] [--dry-run]",
		Short: "Remove old runs, their model files and the versions only they produced",
		Long: `Gc removes the runs that are not among the --keep-last newest and finished more than
--older-than ago (both rules apply when both are given), each with its saved model directory,
and the registered model versions (record and artifact) that only removed runs produced.
It never removes a version that holds production or staging, one a rollback would return to,
or an aliased one, nor the runs those versions came from, nor a running run (a run whose
process was killed is interrupted, and goes like a finished one). On an SQLite store,
whose step cache has no bound of its own, it also removes the cache records last written
before the runs it removes (so with --keep-last alone, before the Nth newest run; never
before a running run), then, if at least a quarter of the file is free pages, runs VACUUM
to give them back to the file system. VACUUM rewrites the file and holds off other
processes' writes while it runs (they wait up to 10 s). A Redis store bounds its cache
itself (cache_ttl, cache_max).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if p.KeepLast < 0 || p.OlderThan < 0 || (p.KeepLast == 0 && p.OlderThan == 0) {
				return usagef("gc: give --keep-last N (N > 0) and/or --older-than DURATION (e.g. 720h)")
			}
			return a.collect(cmd, p, asJSON)
		},
	}
	cmd.Flags().IntVar(&p.KeepLast, "keep-last", 0, "keep the N newest runs")
	cmd.Flags().DurationVar(&p.OlderThan, "older-than", 0, "remove only runs older than this (e.g. 720h)")
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
holds a stage or an alias (or that a rollback would return to) is refused, naming the use.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p.Runs = args
			return a.collect(cmd, p, asJSON)
		},
	}
	reportFlags(cmd, &p, &asJSON)
	return cmd
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
	st, err := a.openStore(ctx, cfg)
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
	printCollected(a.stdout, rep, vacuumed)
	return nil
}

func printCollected(w io.Writer, rep *housekeeping.Report, vacuumed int64) {
	verb := "removed"
	if rep.DryRun {
		verb = "would remove"
	}
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
