package failover

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/sqlite"
)

// The replay reads the primary's leases (prefetch), judges from them
// whether a journal entry was superseded, then writes: a successor that
// takes a lease over on the primary in between must still keep its
// lease and its writes. The writes under a lease, and to a lease,
// therefore test the primary's lease as the replay read it in the same
// step as the write.

// readFence returns the fence of the primary's lease that p was written
// under (see superseded), as prefetch read it; false if p names no
// lease or the primary had none, when there is nothing to fence with.
func (r *replayer) readFence(p sqlite.Pending) (store.Fence, bool) {
	b, ok := sqlite.ParseLeaseBase(p.Base)
	if !ok {
		return store.Fence{}, false
	}
	lease := r.remote[recKey{b.Kind, b.Key}]
	if lease == nil {
		return store.Fence{}, false
	}
	return store.Fence{Kind: b.Kind, Key: b.Key, Token: store.LeaseToken(lease)}, true
}

// putRun copies run to the primary, under the primary's lease as read
// if p names one; a lease taken over since leaves the primary's run (a
// conflict, counted). Once the primary has lost its data (r.lost), a
// run with no lease there is copied only where the primary has no run
// of its id (see createRun).
func (r *replayer) putRun(p sqlite.Pending, run *store.Run) error {
	var err error
	kept := false // the primary's run stands
	f, fenced := r.readFence(p)
	switch {
	case fenced:
		err = store.PutRunFenced(r.ctx, r.primary, run, f)
		if errors.Is(err, store.ErrLeaseLost) {
			kept, err = true, nil
		}
	case r.lost:
		kept, err = r.createRun(run)
	default:
		err = r.primary.PutRun(r.ctx, run)
	}
	if err != nil {
		return err
	}
	if kept {
		r.n.Conflicts = append(r.n.Conflicts, "run/"+p.A)
		return nil
	}
	r.n.Runs++
	return nil
}

// createRun copies run to a primary that lost its data, where the
// primary has no run of its id, in one step (store.CreateRun), and
// reports whether the primary kept a run of its own: one written there
// since the loss, by another process that may have taken the run over,
// stands, even if written after prefetch found the run's lease missing.
// The fallback's run itself, copied by an earlier replay cut short, is
// no conflict.
func (r *replayer) createRun(run *store.Run) (kept bool, err error) {
	created, err := store.CreateRun(r.ctx, r.primary, run)
	if err != nil || created {
		return false, err
	}
	cur, err := r.primary.GetRun(r.ctx, run.ID)
	switch {
	case errors.Is(err, store.ErrAmbiguous): // runs its id prefixes hide it: not comparable
		return true, nil
	case err != nil:
		return false, err
	case cur.ID != run.ID:
		return true, nil
	}
	same, err := sameRun(cur, run)
	return !same, err
}

// sameRun reports whether a and b hold the same run: the same JSON once
// their times are in one zone (stores read them back in their own).
func sameRun(a, b *store.Run) (bool, error) {
	var docs [2][]byte
	for i, r := range []*store.Run{a, b} {
		c := *r
		c.Created, c.Finished = c.Created.UTC(), c.Finished.UTC()
		doc, err := json.Marshal(&c)
		if err != nil {
			return false, fmt.Errorf("run %s: %w", r.ID, err)
		}
		docs[i] = doc
	}
	return bytes.Equal(docs[0], docs[1]), nil
}

// lease copies the fallback's state of the lease record of p (rec; nil:
// released) to the primary, over the primary's lease as read: swapped
// over its value, or deleted under its token. A lease taken over since
// stays (a conflict, counted).
func (r *replayer) lease(p sqlite.Pending, rec *store.Record) error {
	if err := r.flush(); err != nil {
		return err
	}
	cur := r.remote[recKey{p.A, p.B}]
	done := true
	var err error
	switch {
	case rec != nil:
		done, err = r.primary.SwapRecord(r.ctx, p.A, p.B, store.SwapOld(cur), rec.Value)
	case cur != nil:
		err = store.DeleteRecordFenced(r.ctx, r.primary, p.A, p.B, store.Fence{Kind: p.A, Key: p.B, Token: store.LeaseToken(cur)})
		if errors.Is(err, store.ErrLeaseLost) {
			done, err = false, nil
		}
	}
	if err != nil {
		return err
	}
	if !done {
		r.n.Conflicts = append(r.n.Conflicts, p.A+"/"+p.B)
		return nil
	}
	r.n.Records++
	return nil
}
