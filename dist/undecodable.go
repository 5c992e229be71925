package dist

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// maxUndecodable is how many undecodable results of one unit a driver
// discards, running the unit again after each, before it fails: as many
// times as the server delivers a unit.
const maxUndecodable = MaxDeliver

// undecodable is a result in the results bucket that does not decode
// (corrupt bytes, another tabforge's format, a stray writer), at
// revision rev of its key.
type undecodable struct {
	key string
	rev uint64
	err error
}

func (u *undecodable) Error() string { return fmt.Sprintf("dist: result %s: %v", u.key, u.err) }
func (u *undecodable) Unwrap() error { return u.err }

// badResults counts the distinct undecodable results of a unit the
// driver read, by the revision of the last.
type badResults struct {
	n      int
	rev    uint64
	warned bool
}

// discard treats an undecodable result of result key rk as lost: it
// warns (once per unit), deletes the entry unless another was written
// since, and queues the unit again unless its message still waits for a
// worker. The maxUndecodable+1st undecodable result of a unit fails the
// run with bad.
func (cl *collection) discard(ctx context.Context, rk string, bad *undecodable) error {
	u := cl.units[cl.keys[rk][0]]
	if cl.bad == nil {
		cl.bad = map[string]badResults{}
	}
	b := cl.bad[rk]
	if b.n == 0 || b.rev != bad.rev { // not the one read before, whose delete failed
		b.n, b.rev = b.n+1, bad.rev
	}
	if b.n > maxUndecodable {
		return fmt.Errorf("%w (the %s unit's result was undecodable %d times)", bad, u.Kind, b.n)
	}
	if !b.warned {
		b.warned = true
		cl.e.o.Logger.Warn("a unit's result cannot be decoded; discarding it and running the unit again",
			"kind", u.Kind, "unit", rk[:13], "err", bad.err)
	}
	cl.bad[rk] = b
	// Only this revision: a result written meanwhile is read next time.
	if err := cl.e.c.results.Delete(ctx, rk, jetstream.LastRevision(bad.rev)); err != nil {
		return nil
	}
	if cl.e.queued(ctx, cl.seqs[rk]) {
		return nil // the worker that gets it runs the unit, finding no result
	}
	return cl.requeue(ctx, rk)
}

// requeue publishes the unit of result key rk anew, as a message the
// driver then waits on.
func (cl *collection) requeue(ctx context.Context, rk string) error {
	idx := cl.keys[rk]
	fresh, err := cl.e.publishAnew(ctx, cl.units[idx[0]])
	if err != nil {
		return err
	}
	// A max-deliveries advisory names the message that now runs it.
	delete(cl.keys, maxKey(cl.seqs[rk]))
	cl.keys[maxKey(fresh)] = idx[:1]
	cl.seqs[rk] = fresh
	return nil
}
