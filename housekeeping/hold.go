package housekeeping

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
)

// A runGroup is runs gc removes together with the versions that only
// they produced: a version produced by several runs (a refit, a segment
// model) ties them into one group, held at once.
type runGroup struct {
	runs     []*store.Run
	versions []*registry.Model
}

// runGroups splits remove into the smallest groups no unprotected
// version crosses, each with the unprotected versions all of whose runs
// are in it, in the order of their first run in remove (versions in the
// order of versions). Most runs are a group of their own.
func runGroups(versions []*registry.Model, protected map[string]string, remove []*store.Run) []runGroup {
	at := make(map[string]int, len(remove))
	for i, r := range remove {
		at[r.ID] = i
	}
	parent := make([]int, len(remove)) // union-find over remove
	for i := range parent {
		parent[i] = i
	}
	root := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	var vs []*registry.Model
	for _, v := range versions {
		ids := runsOf(v)
		if _, ok := protected[v.Version]; ok || len(ids) == 0 || slices.ContainsFunc(ids, func(id string) bool { _, ok := at[id]; return !ok }) {
			continue
		}
		vs = append(vs, v)
		for _, id := range ids[1:] {
			parent[root(at[id])] = root(at[ids[0]])
		}
	}
	var gs []runGroup
	group := map[int]int{} // root → index in gs
	for i, r := range remove {
		g, ok := group[root(i)]
		if !ok {
			g = len(gs)
			group[root(i)] = g
			gs = append(gs, runGroup{})
		}
		gs[g].runs = append(gs[g].runs, r)
	}
	for _, v := range vs {
		g := group[root(at[runsOf(v)[0]])]
		gs[g].versions = append(gs[g].versions, v)
	}
	return gs
}

// holdRuns takes the run lease of each run in remove that could be
// resumed, so that no process resumes it while its versions and records
// are removed: gc judged the run dead when it listed it, and a resume
// since (which takes the lease over once it expired, or creates it) must
// not lose its lease, stage and run records to gc. It returns the runs
// to remove after all, and their leases by run id (none for a run that
// cannot be resumed, nor in a dry run), which the caller releases once
// done. A run whose lease is live again, or whose record changed since
// the listing (resumed, and perhaps finished, in between), is kept and
// reported in rep.Kept.
func holdRuns(ctx context.Context, st store.Store, remove []*store.Run, dry bool, rep *Report) ([]*store.Run, map[string]*store.Lease, error) {
	var out []*store.Run
	leases := map[string]*store.Lease{}
	for _, r := range remove {
		// A succeeded run cannot be resumed (pipeline.ResumeConfig), and
		// run ids are unique, so nothing can take its lease.
		if dry || r.Status == store.Succeeded {
			out = append(out, r)
			continue
		}
		// Renewal warnings are not worth a logger here: gc holds each
		// lease only while it removes what the run left.
		_, l, err := store.Claim(ctx, st, store.LeaseKind, r.ID, pipeline.DefaultRunLease, slog.New(slog.DiscardHandler))
		if errors.Is(err, store.ErrClaimed) {
			rep.Kept[r.ID] = "its lease was taken while gc ran (a resume, or another gc)"
			continue
		}
		if err != nil {
			return out, leases, fmt.Errorf("remove run %s: %w", r.ID, err)
		}
		leases[r.ID] = l
		cur, err := st.GetRun(ctx, r.ID)
		switch {
		case errors.Is(err, store.ErrNotFound): // removed by another gc meanwhile
		case err != nil:
			return out, leases, fmt.Errorf("remove run %s: %w", r.ID, err)
		case !sameRun(r, cur):
			rep.Kept[r.ID] = fmt.Sprintf("recorded anew while gc ran (now %s)", cur.Status)
		default:
			out = append(out, r)
		}
	}
	return out, leases, nil
}

// sameRun reports whether cur, read under the run's lease, is the record
// listed as r (whose status liveStatus may have turned to Interrupted): a
// resume records the run anew, with a new start time.
func sameRun(r, cur *store.Run) bool {
	status := cur.Status
	if r.Status == store.Interrupted && status == store.Running {
		status = store.Interrupted
	}
	return status == r.Status && cur.Created.Equal(r.Created) && cur.Finished.Equal(r.Finished)
}
