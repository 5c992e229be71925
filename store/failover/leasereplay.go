package failover

import (
	"errors"

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
// conflict, counted).
func (r *replayer) putRun(p sqlite.Pending, run *store.Run) error {
	var err error
	if f, ok := r.readFence(p); ok {
		err = store.PutRunFenced(r.ctx, r.primary, run, f)
	} else {
		err = r.primary.PutRun(r.ctx, run)
	}
	if errors.Is(err, store.ErrLeaseLost) {
		r.n.Conflicts = append(r.n.Conflicts, "run/"+p.A)
		return nil
	}
	if err != nil {
		return err
	}
	r.n.Runs++
	return nil
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
