package failover

import (
	"context"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/sqlite"
)

var _ store.FencedRunWriter = (*Store)(nil)

// PutRunFenced implements store.FencedRunWriter on the store in use. On
// the fallback, a lease missing there that this process last wrote on
// the primary with f's token is still its own (as for a renewal, see
// adopt): the fallback never saw it, and nobody took it over there. It
// is written there first (see adoptLeases), so that the fallback tests
// it and writes the run in one step.
func (s *Store) PutRunFenced(ctx context.Context, r *store.Run, f store.Fence) error {
	// Journalled with its fence, so that replay leaves the primary's run
	// to a newer holder of the lease there.
	k := sqlite.Pending{Kind: "run", A: r.ID, Base: s.leaseBase(f)}
	return s.write(ctx, []sqlite.Pending{k}, func(st store.Store) error {
		if st == store.Store(s.fallback) {
			if err := s.adoptLeases(ctx, f); err != nil {
				return err
			}
		}
		return store.PutRunFenced(ctx, st, r, f)
	})
}

// mirrorTokens raises the fallback's fencing token counter to the
// primary's (see store.Claim). Tokens handed out on the fallback during
// an outage then follow every token handed out before it through this
// fallback file's stores, instead of repeating them from the fallback's
// own, lower count: an acquisition on the fallback with the token of a
// lease still held on the primary would pass the old holder's renewal,
// which compares tokens, and leave two holders. A failure is logged:
// it weakens fencing only during a later outage.
func (s *Store) mirrorTokens(ctx context.Context) {
	n, err := store.LastToken(ctx, s.primary)
	if err == nil {
		err = store.AdvanceTokens(ctx, s.fallback, n)
	}
	if err != nil {
		s.log.Warn("store: the fallback's lease token counter was not raised to redis's", "err", err)
	}
}

var _ store.FencedSwapper = (*Store)(nil)

// SwapRecordFenced implements store.FencedSwapper like SwapRecord: on the
// primary while it is up, else on the fallback, journalled only when
// swapped. On the fallback, a lease missing there that this process last
// wrote on the primary with its fence's token is still its own, and is
// written there first (see adoptLeases); every lease is then checked in
// the swap's transaction.
func (s *Store) SwapRecordFenced(ctx context.Context, kind, key string, old, value []byte, fences ...store.Fence) (bool, error) {
	if swapped, done, err := s.tryWrite(kind, key, value, func(p store.Store) (bool, error) {
		return store.SwapRecordFenced(ctx, p, kind, key, old, value, fences...)
	}); done {
		return swapped, err
	}
	k := s.pending(kind, key, old, value)
	if err := s.adoptLeases(ctx, fences...); err != nil {
		return false, err
	}
	swapped, err := s.fallback.SwapRecordFenced(ctx, kind, key, old, value, fences...)
	if err == nil && !swapped {
		swapped, err = s.adopt(ctx, kind, key, old, value)
	}
	if err != nil || !swapped {
		return false, err
	}
	return true, s.fallback.MarkPending(ctx, k)
}

var _ store.FencedDeleter = (*Store)(nil)

// DeleteRecordFenced implements store.FencedDeleter on the store in use,
// journalled on the fallback as DeleteRecord is, with the base of the
// record deleted (for a lease, the acquisition it held). On the
// fallback, a lease missing there that this process last wrote on the
// primary with its fence's token is still its own (see adoptLeases):
// its holder's release leaves the fallback without it, as it was, but
// is journalled, and the replay deletes the lease on the primary only
// if no newer holder has taken it there since (see superseded).
func (s *Store) DeleteRecordFenced(ctx context.Context, kind, key string, fences ...store.Fence) error {
	k := []sqlite.Pending{{Kind: "record", A: kind, B: key}}
	return s.write(ctx, k, func(st store.Store) error {
		if st != store.Store(s.fallback) {
			err := store.DeleteRecordFenced(ctx, st, kind, key, fences...)
			if err == nil {
				s.forget(kind, key)
			}
			return err
		}
		if err := s.adoptLeases(ctx, fences...); err != nil {
			return err
		}
		return s.fallback.DeleteRecordFenced(ctx, kind, key, fences...)
	})
}

// adoptLeases writes to the fallback, where it has none, the lease of
// each fence that this process last wrote on the primary with the
// fence's token: still its holder's, as for a renewal (see adopt). The
// fallback then tests every fence in the same step as the write it
// fences, and another process sharing the fallback file that claims
// one of these leases meanwhile finds it held. Testing the fallback's
// lack of the lease and then writing without its fence left a moment
// for that claim to land before the write.
func (s *Store) adoptLeases(ctx context.Context, fences ...store.Fence) error {
	for _, f := range fences {
		s.mu.Lock()
		mine, ok := s.wrote[recKey{f.Kind, f.Key}]
		s.mu.Unlock()
		if !ok || store.LeaseToken(&store.Record{Value: mine}) != f.Token {
			continue
		}
		// Left as it is if present: the holder's own, or another's,
		// which the fenced write then refuses.
		if _, err := s.fallback.CreateRecord(ctx, f.Kind, f.Key, mine); err != nil {
			return err
		}
	}
	return nil
}

var _ store.LeaseRestorer = (*Store)(nil)

// RestoreLease implements store.LeaseRestorer on the store in use: on
// the primary while it is up, else on the fallback (against the
// fallback's token counter, which follows the primary's), journalled
// only when created.
func (s *Store) RestoreLease(ctx context.Context, kind, key string, value []byte, token uint64) (bool, error) {
	if created, done, err := s.tryWrite(kind, key, value, func(p store.Store) (bool, error) {
		return store.RestoreLease(ctx, p, kind, key, value, token)
	}); done {
		return created, err
	}
	created, err := s.fallback.RestoreLease(ctx, kind, key, value, token)
	if err != nil || !created {
		return false, err
	}
	return true, s.fallback.MarkPending(ctx, s.pending(kind, key, nil, value))
}

// recordBases reads, before a write on the fallback, the state of each
// record it changes (see sqlite.Pending.Base): the fallback is no copy of
// the primary, so replay must know what the write was made on. It reads
// the records of each kind in one batch (a prune during an outage
// journals thousands of keys).
func (s *Store) recordBases(ctx context.Context, keys []sqlite.Pending) (map[sqlite.Pending]string, error) {
	byKind := map[string][]string{}
	for _, k := range keys {
		if k.Kind == "record" {
			byKind[k.A] = append(byKind[k.A], k.B)
		}
	}
	recs, err := getRecords(ctx, s.fallback, byKind)
	if err != nil {
		return nil, err
	}
	bases := make(map[sqlite.Pending]string, len(keys))
	for _, k := range keys {
		if k.Kind != "record" {
			continue
		}
		rec := recs[recKey{k.A, k.B}]
		if isLease(k.A) {
			bases[k] = s.removedLeaseBase(k.A, k.B, rec)
		} else {
			bases[k] = sqlite.RecordBase(rec)
		}
	}
	return bases, nil
}

// pending is the journal entry of a write of value over old (nil: none)
// to the record kind/key on the fallback. Its base is old's state, or
// for a lease the acquisition value holds (see sqlite.LeaseBase).
func (s *Store) pending(kind, key string, old, value []byte) sqlite.Pending {
	k := sqlite.Pending{Kind: "record", A: kind, B: key, Target: s.target, Base: "absent"}
	switch {
	case isLease(kind):
		k.Base = s.leaseBase(store.Fence{Kind: kind, Key: key, Token: store.LeaseToken(&store.Record{Value: value})})
	case old != nil:
		k.Base = sqlite.RecordBase(&store.Record{Kind: kind, Key: key, Value: old})
	}
	return k
}

// leaseBase is the base of a journalled write on the fallback made by
// or under the lease acquisition f: written on the primary if this
// process last wrote the lease there with f's token.
func (s *Store) leaseBase(f store.Fence) string {
	s.mu.Lock()
	mine, ok := s.wrote[recKey{f.Kind, f.Key}]
	s.mu.Unlock()
	primary := ok && store.LeaseToken(&store.Record{Value: mine}) == f.Token
	return sqlite.LeaseBase{Fence: f, Primary: primary}.String()
}

// removedLeaseBase is the base of a journalled write on the fallback
// that puts or deletes the lease kind/key, which the fallback holds as
// rec (nil: none): the acquisition rec holds, or else the one this
// process last wrote on the primary, which its holder's release removes
// (token 0 if neither).
func (s *Store) removedLeaseBase(kind, key string, rec *store.Record) string {
	if rec == nil {
		s.mu.Lock()
		if mine, ok := s.wrote[recKey{kind, key}]; ok {
			rec = &store.Record{Value: mine}
		}
		s.mu.Unlock()
	}
	f := store.Fence{Kind: kind, Key: key}
	if rec != nil {
		f.Token = store.LeaseToken(rec)
	}
	return s.leaseBase(f)
}

// isLease reports whether records of kind are leases (see store.Claim).
func isLease(kind string) bool { return kind == store.LeaseKind || kind == store.ClaimKind }
