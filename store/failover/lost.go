package failover

import (
	"bytes"
	"context"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/sqlite"
)

// An epocher is a primary that marks its data set with an epoch which
// is lost with the data (see redis.Store.Epoch).
type epocher interface {
	Epoch(ctx context.Context) (string, error)
}

// primaryEpoch returns primary's epoch ("" if it keeps none) and the
// one the fallback last found there for target ("" if none). Another
// epoch means primary has lost its data since: the journal's bases then
// describe records that no longer exist anywhere, so the replay must not
// read their absence as another process's delete (see replayer.lost).
func primaryEpoch(ctx context.Context, fallback *sqlite.Store, primary store.Store, target string) (epoch, seen string, err error) {
	e, ok := primary.(epocher)
	if !ok {
		return "", "", nil
	}
	if epoch, err = e.Epoch(ctx); err != nil {
		return "", "", err
	}
	seen, err = fallback.PrimaryEpoch(ctx, target)
	return epoch, seen, err
}

// ownLease reports, once the primary has lost its data, whether the
// primary's lease that p was written under (nil: none) is absent or is
// the fallback's own, copied there by this replay or an earlier one cut
// short: the fallback's lease holds the same value. Tokens handed out
// after the loss restart from the primary's emptied counter, so they
// say nothing about which acquisition is newer; any other lease was
// taken on the primary after the loss, and its holder's state stands.
func (r *replayer) ownLease(b sqlite.LeaseBase, lease *store.Record) bool {
	if lease == nil {
		return true
	}
	own := r.local[recKey{b.Kind, b.Key}]
	return own != nil && bytes.Equal(own.Value, lease.Value)
}

// raiseTokens raises the primary's fencing token counter, lost with its
// data, to the fallback's before anything is replayed: a lease acquired
// on the primary from then on gets a token above every token handed out
// before the loss, as the journal's leases expect.
func (r *replayer) raiseTokens() error {
	n, err := store.LastToken(r.ctx, r.fallback)
	if err != nil {
		return err
	}
	return store.AdvanceTokens(r.ctx, r.primary, n)
}
