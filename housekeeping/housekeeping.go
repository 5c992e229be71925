// Package housekeeping owns what may be removed from a tabforge store and
// when: old runs with their saved model directories, the registered
// versions and artifacts only they produced, and step cache records as
// old as the runs removed. It never removes a version
// that holds a stage or an alias, that a rollback would return to or that
// a traffic route names (registry.Protected), nor
// the runs those versions came from (their lineage), nor a run that is
// still running. On request it also prunes the registry's history
// (registry.PruneHistory).
package housekeeping

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
)

// Policy says which runs are old enough to remove. A run is removed only
// if every rule set says so: it is not among the KeepLast newest runs and
// it finished (or started) more than OlderThan ago.
type Policy struct {
	KeepLast  int           // 0: no count rule
	OlderThan time.Duration // 0: no age rule
	// Runs, when not empty, names the runs to remove instead of the rules
	// above (runs rm); a protected one is an error rather than skipped.
	Runs []string
	// HistoryOlderThan, when positive, also prunes the registry's history
	// of events older than this (registry.PruneHistory); 0 keeps it all.
	// With no other rule, no run is removed.
	HistoryOlderThan time.Duration
	// DryRun reports what would be removed and removes nothing.
	DryRun bool
	// Now is the time ages are measured from; zero means time.Now().
	Now time.Time
}

// Env is what housekeeping acts on.
type Env struct {
	Store     store.Store
	Registry  *registry.Registry
	Artifacts *artifact.Store // nil: registered artifacts are left in place
}

// Report lists what was (or, in a dry run, would be) removed and kept.
type Report struct {
	Runs     []string          `json:"runs"`     // removed run ids
	Versions []string          `json:"versions"` // removed model versions
	Kept     map[string]string `json:"kept"`     // run id → why it was kept
	Bytes    int64             `json:"bytes"`    // file and artifact bytes freed
	DryRun   bool              `json:"dry_run"`  // written false too: one shape

	// CacheRecords and CacheBytes count the step cache records removed
	// (on stores that bound their cache themselves, none).
	CacheRecords int   `json:"cache_records"`
	CacheBytes   int64 `json:"cache_bytes"`

	// History is what pruning the registry's history removed (with
	// Policy.HistoryOlderThan; nil without).
	History *registry.Pruned `json:"history,omitempty"`
}

// ErrNoRule reports a Policy that names neither runs nor a rule.
var ErrNoRule = errors.New("housekeeping: give runs to remove, or keep-last, older-than or history-older-than")

// Collect removes what p selects from env and reports it: runs, the
// versions only they produced and old cache records, then history
// events.
func Collect(ctx context.Context, env Env, p Policy) (*Report, error) {
	runRule := len(p.Runs) > 0 || p.KeepLast > 0 || p.OlderThan > 0
	if !runRule && p.HistoryOlderThan <= 0 {
		return nil, ErrNoRule
	}
	if p.Now.IsZero() {
		p.Now = time.Now()
	}
	// Nothing removed is [] in JSON (gc --json), not null.
	rep := &Report{Runs: []string{}, Versions: []string{}, Kept: map[string]string{}, DryRun: p.DryRun}
	if runRule {
		if err := collectRuns(ctx, env, p, rep); err != nil {
			return rep, err
		}
	}
	if p.HistoryOlderThan > 0 {
		h, err := env.Registry.PruneHistory(ctx, p.Now.Add(-p.HistoryOlderThan), p.DryRun)
		rep.History = h
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// collectRuns removes the runs p selects, the versions only they
// produced and the cache records as old, into rep.
func collectRuns(ctx context.Context, env Env, p Policy, rep *Report) error {
	runs, err := env.Store.ListRuns(ctx, 0)
	if err != nil {
		return err
	}
	if err := liveStatus(ctx, env.Store, runs); err != nil {
		return err
	}
	versions, err := env.Registry.List(ctx, "")
	if err != nil {
		return err
	}
	protected, err := env.Registry.Protected(ctx)
	if err != nil {
		return err
	}
	// lineage: run id → the protection of a version it produced.
	lineage := map[string]string{}
	for _, v := range versions {
		if why, ok := protected[v.Version]; ok {
			for _, id := range runsOf(v) {
				lineage[id] = fmt.Sprintf("produced %s (%s)", v.Version, why)
			}
		}
	}
	// Named runs are looked up as everywhere else a run is named: a
	// unique prefix will do, an ambiguous one is an error.
	var named []*store.Run
	for _, id := range p.Runs {
		r, err := env.Store.GetRun(ctx, id)
		if err != nil {
			return err
		}
		if err := liveStatus(ctx, env.Store, []*store.Run{r}); err != nil {
			return err
		}
		if !slices.ContainsFunc(named, func(n *store.Run) bool { return n.ID == r.ID }) {
			named = append(named, r)
		}
	}
	remove, err := selectRuns(runs, named, p, lineage, rep)
	if err != nil {
		return err
	}
	if err := removeAll(ctx, env, versions, protected, remove, p.DryRun, rep); err != nil {
		return err
	}
	if pr, ok := env.Store.(store.CachePruner); ok {
		if before, ok := cacheCutoff(runs, p); ok {
			if rep.CacheRecords, rep.CacheBytes, err = pr.PruneCache(ctx, before, p.DryRun); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeAll removes the runs in remove and the unprotected versions only
// they produced, a group of runs at a time (runGroups): each group's
// runs are held (holdRuns) only while its versions and runs go, so that
// gc holds a lease or two at a time, not one per removable run. Each
// held lease renews itself every few seconds, and thousands held at
// once (a store of old failed runs) flooded an SQLite store with
// renewals: gc slowed to a crawl, and a train on the same store waited
// on its writes. Versions go before the runs that produced them: a
// collection cut short (killed, a store error) leaves runs whose
// versions are gone, which the next one removes, and never versions
// whose runs are gone, which no later one would select.
func removeAll(ctx context.Context, env Env, versions []*registry.Model, protected map[string]string, remove []*store.Run, dry bool, rep *Report) error {
	for _, g := range runGroups(versions, protected, remove) {
		if err := removeGroup(ctx, env, g, dry, rep); err != nil {
			return err
		}
	}
	return nil
}

// removeGroup removes the runs of g that holdRuns holds, and the
// versions of g whose runs all go, versions first.
func removeGroup(ctx context.Context, env Env, g runGroup, dry bool, rep *Report) error {
	remove, leases, err := holdRuns(ctx, env.Store, g.runs, dry, rep)
	defer func() {
		for _, l := range leases {
			l.Release()
		}
	}()
	if err != nil {
		return err
	}
	gone := map[string]bool{}
	for _, r := range remove {
		gone[r.ID] = true
	}
	for _, v := range g.versions {
		if !allGone(runsOf(v), gone) {
			continue
		}
		why, err := removeVersion(ctx, env, v, dry, rep)
		if err != nil {
			return err
		}
		if why == "" {
			continue
		}
		for _, id := range runsOf(v) { // protected since the list above: its lineage stays too
			gone[id] = false
			rep.Kept[id] = fmt.Sprintf("produced %s (%s)", v.Version, why)
		}
	}
	for _, r := range remove {
		if !gone[r.ID] {
			continue
		}
		if err := removeRun(ctx, env, r, leases[r.ID], dry, rep); err != nil {
			return err
		}
	}
	return nil
}

// cacheCutoff returns the time before which step cache records last
// written may go, and false when none may (runs named to runs rm, or
// fewer runs than KeepLast). A record goes only if every rule p sets
// would remove a run created when it was written, and if no running run
// is older: the cache is shared by content, owned by no run, and is
// otherwise never pruned on a store that does not bound it. A record a
// kept run only read (a cache hit) may go; rerunning that run then
// recomputes it.
func cacheCutoff(runs []*store.Run, p Policy) (time.Time, bool) {
	if len(p.Runs) > 0 {
		return time.Time{}, false
	}
	cut := p.Now
	if p.OlderThan > 0 {
		cut = p.Now.Add(-p.OlderThan)
	}
	if p.KeepLast > 0 {
		if len(runs) < p.KeepLast {
			return time.Time{}, false
		}
		cut = earlier(cut, runs[p.KeepLast-1].Created) // runs are newest first
	}
	for _, r := range runs {
		if r.Status == store.Running {
			cut = earlier(cut, r.Created)
		}
	}
	return cut, true
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// selectRuns picks the runs to remove, the named ones (p.Runs, looked up)
// or those the rules select, and records why others are kept.
func selectRuns(runs, named []*store.Run, p Policy, lineage map[string]string, rep *Report) ([]*store.Run, error) {
	var out []*store.Run
	if len(p.Runs) > 0 {
		for _, r := range named {
			if why := lineage[r.ID]; why != "" {
				return nil, fmt.Errorf("run %s %s: %w; demote or re-alias it first", r.ID, why, registry.ErrProtected)
			}
			if r.Status == store.Running {
				return nil, fmt.Errorf("run %s is still running", r.ID)
			}
			out = append(out, r)
		}
		return out, nil
	}
	for i, r := range runs { // newest first
		switch {
		case p.KeepLast > 0 && i < p.KeepLast:
			rep.Kept[r.ID] = fmt.Sprintf("among the %d newest", p.KeepLast)
		case p.OlderThan > 0 && p.Now.Sub(runTime(r)) < p.OlderThan:
			rep.Kept[r.ID] = fmt.Sprintf("created after %s (older-than %s)", p.Now.Add(-p.OlderThan).UTC().Format("2006-01-02 15:04 MST"), p.OlderThan)
		case lineage[r.ID] != "":
			rep.Kept[r.ID] = lineage[r.ID]
		case r.Status == store.Running:
			rep.Kept[r.ID] = "still running"
		default:
			out = append(out, r)
		}
	}
	return out, nil
}

// liveStatus replaces the recorded status of runs recorded as running by
// what their leases say: a run whose process was killed stays "running" in
// its record forever, and would otherwise never be collected (nor could
// runs rm remove it: "still running"). Liveness is judged by the clock,
// not Policy.Now, which only measures ages.
func liveStatus(ctx context.Context, recs store.Records, runs []*store.Run) error {
	now := time.Now()
	for _, r := range runs {
		st, err := pipeline.RunStatus(ctx, recs, r, now)
		if err != nil {
			return fmt.Errorf("run %s: %w", r.ID, err)
		}
		r.Status = st
	}
	return nil
}

func runTime(r *store.Run) time.Time {
	if !r.Finished.IsZero() {
		return r.Finished
	}
	return r.Created
}

func runsOf(v *registry.Model) []string {
	ids := slices.Clone(v.Runs)
	if v.RunID != "" && !slices.Contains(ids, v.RunID) {
		ids = append(ids, v.RunID)
	}
	return ids
}

func allGone(ids []string, gone map[string]bool) bool {
	for _, id := range ids {
		if !gone[id] {
			return false
		}
	}
	return len(ids) > 0
}

// removeRun deletes a run's saved model directory (the directory of its
// model file, named after the run), the stage record an interrupted run
// leaves behind and the record of its input files, then its record, so
// that a removal cut short is finished by the next one, and last its
// lease record: gc's own hold of it, l (see holdRuns), deleted under l's
// fence, or for a run that cannot be resumed (l nil) whatever its
// process left.
func removeRun(ctx context.Context, env Env, r *store.Run, l *store.Lease, dry bool, rep *Report) error {
	rep.Runs = append(rep.Runs, r.ID)
	if dir := filepath.Dir(r.ModelPath); r.ModelPath != "" && filepath.Base(dir) == r.ID {
		rep.Bytes += dirSize(dir)
		if !dry {
			if err := os.RemoveAll(dir); err != nil {
				return fmt.Errorf("remove run %s: %w", r.ID, err)
			}
		}
	}
	if dry {
		return nil
	}
	for _, kind := range []string{pipeline.StageKind, pipeline.InputsKind} {
		if err := env.Store.DeleteRecord(ctx, kind, r.ID); err != nil {
			return fmt.Errorf("remove run %s: %w", r.ID, err)
		}
	}
	if err := env.Store.DeleteRun(ctx, r.ID); err != nil {
		return err
	}
	// The lease goes after the run record: while gc holds it, no resume
	// can start on the record being removed.
	var err error
	if l != nil {
		err = store.DeleteRecordFenced(ctx, env.Store, store.LeaseKind, r.ID, l.Fence())
	} else {
		err = env.Store.DeleteRecord(ctx, store.LeaseKind, r.ID)
	}
	if err != nil {
		return fmt.Errorf("remove run %s: lease: %w", r.ID, err)
	}
	return nil
}

// removeVersion deletes a registered version's record, then its
// artifact. The registry refuses the record of a version that became
// protected since Collect listed them (promoted or aliased meanwhile by
// another process); removeVersion then reports why and removes nothing,
// so a version in use never loses its artifact.
func removeVersion(ctx context.Context, env Env, v *registry.Model, dry bool, rep *Report) (kept string, err error) {
	if !dry {
		err := env.Registry.Delete(ctx, v.Version)
		if errors.Is(err, registry.ErrProtected) {
			return err.Error(), nil
		}
		if err != nil {
			return "", err
		}
		if env.Artifacts != nil && v.Artifact.Key != "" && (v.Artifact.URL == "" || v.Artifact.URL == env.Artifacts.URL()) {
			if err := env.Artifacts.Delete(ctx, v.Artifact.Key); err != nil {
				return "", err
			}
		}
	}
	rep.Versions = append(rep.Versions, v.Version)
	rep.Bytes += v.Artifact.Size
	return "", nil
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
