package failover

import (
	"context"
	"errors"
	"fmt"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/sqlite"
	"github.com/tabforge/tabforge/tune"
)

// SyncCounts says how many journalled keys a Sync copied to the primary.
type SyncCounts struct {
	Runs, Records, Studies, Trials int
	// Left is the number of journal entries still pending.
	Left int
	// Conflicts names the records ("kind/key"), runs ("run/ID") and
	// trials ("trial/STUDY/N") the primary kept: written on the fallback
	// over a state other than the primary's (absent there, or stale)
	// while the primary held another value, or under a lease a newer
	// holder has taken on the primary since (see superseded). The
	// fallback's value stays in the fallback file.
	Conflicts []string
	// PrimaryLost reports that the primary had lost its data since the
	// journal's writes were made (its epoch changed: a Redis restarted
	// without persistence, flushed, or replaced by an empty one). Their
	// bases then name a state that no longer exists, so each journalled
	// key the primary lacks got the fallback's value, rather than being
	// read as removed by another process; a key written on the primary
	// since the loss keeps the primary's value (a conflict).
	PrimaryLost bool
}

// Total is the number of keys copied.
func (n SyncCounts) Total() int { return n.Runs + n.Records + n.Studies + n.Trials }

// Sync copies the current fallback state of every journalled key to the
// primary, oldest entry first, and clears each entry once copied. An
// entry written again while Sync runs stays for the next Sync. Sync is
// idempotent: running it twice, or again after it stopped half-way, only
// rewrites the same values. It fails with store.ErrUnavailable if the
// primary cannot be reached.
func (s *Store) Sync(ctx context.Context) (SyncCounts, error) {
	var n SyncCounts
	if s.primary == nil {
		return n, fmt.Errorf("sync: %s was unreachable when the store was opened: %w", s.name, store.ErrUnavailable)
	}
	return ReplayTo(ctx, s.fallback, s.primary, s.target)
}

// Replay copies every journalled key of fallback to primary; see Sync.
func Replay(ctx context.Context, fallback *sqlite.Store, primary store.Store) (SyncCounts, error) {
	return ReplayTo(ctx, fallback, primary, "")
}

// ReplayTo is Replay for the journal entries owed to target only (all of
// them when target is ""); see sqlite.Pending.Target. For one target, it
// compares the primary's epoch with the one the fallback last found
// there (see SyncCounts.PrimaryLost), and records the primary's once the
// journal's entries are replayed.
func ReplayTo(ctx context.Context, fallback *sqlite.Store, primary store.Store, target string) (SyncCounts, error) {
	all, err := fallback.PendingWrites(ctx)
	if err != nil {
		return SyncCounts{}, err
	}
	var pending []sqlite.Pending
	for _, p := range all {
		if target == "" || p.Target == target {
			pending = append(pending, p)
		}
	}
	if err := primary.Ping(ctx); err != nil {
		return SyncCounts{Left: len(pending)}, fmt.Errorf("sync: %w", err)
	}
	if target == "" { // several primaries' entries: no one epoch to compare
		return replayEntries(ctx, fallback, primary, pending, false)
	}
	epoch, seen, err := primaryEpoch(ctx, fallback, primary, target)
	if err != nil {
		return SyncCounts{Left: len(pending)}, fmt.Errorf("sync: %w", err)
	}
	n, err := replayEntries(ctx, fallback, primary, pending, seen != "" && seen != epoch)
	if err != nil || epoch == seen {
		return n, err
	}
	// The journal's entries for target are all made on the primary's
	// data set now: later outages' bases describe it.
	if err := fallback.SetPrimaryEpoch(ctx, target, epoch); err != nil {
		return n, fmt.Errorf("sync: %w", err)
	}
	return n, nil
}

// replayEntries replays pending to primary; lost says that the primary
// has lost its data since they were written (see SyncCounts.PrimaryLost).
func replayEntries(ctx context.Context, fallback *sqlite.Store, primary store.Store, pending []sqlite.Pending, lost bool) (SyncCounts, error) {
	if len(pending) == 0 {
		return SyncCounts{}, nil
	}
	r := &replayer{ctx: ctx, fallback: fallback, primary: primary, lost: lost, n: SyncCounts{PrimaryLost: lost},
		studies: map[string]store.Study{}, putStudies: map[string]int64{},
		trials: map[string]map[int]tune.FrozenTrial{}, remoteTrials: map[string]map[int]*tune.FrozenTrial{}}
	if lost {
		if err := r.raiseTokens(); err != nil {
			return SyncCounts{Left: len(pending)}, fmt.Errorf("sync: %w", err)
		}
	}
	list, err := fallback.ListStudies(ctx)
	if err != nil {
		return r.n, fmt.Errorf("sync: %w", err)
	}
	for _, st := range list {
		r.studies[st.Name] = st
	}
	for i, p := range pending {
		if i%replayChunk == 0 {
			if err := r.prefetch(pending[i:min(i+replayChunk, len(pending))]); err != nil {
				r.n.Left = len(pending) - i
				return r.n, fmt.Errorf("sync records: %w", err)
			}
		}
		if err := r.replay(p); err != nil {
			r.n.Left = len(pending) - i
			return r.n, fmt.Errorf("sync %s %s/%s: %w", p.Kind, p.A, p.B, err)
		}
	}
	if err := r.flush(); err != nil {
		r.n.Left = len(r.batched)
		return r.n, fmt.Errorf("sync records: %w", err)
	}
	return r.n, nil
}

// replayChunk is how many journal entries the replay reads the records
// of at once, and the most records it writes in one batch.
const replayChunk = 500

// replayer copies journal entries from the fallback to the primary,
// counting what it copied.
type replayer struct {
	ctx      context.Context
	fallback *sqlite.Store
	primary  store.Store
	n        SyncCounts
	// lost says the primary has lost its data since the journal was
	// written (see SyncCounts.PrimaryLost): a record or lease it lacks
	// is copied whatever the entry's base, and a lease it holds is
	// another holder's unless it is the fallback's own (see ownLease).
	lost bool

	studies    map[string]store.Study // the fallback's, by name
	putStudies map[string]int64       // copied to the primary already: its ids
	// The trials of each study, the fallback's and the primary's (read
	// once the study is copied there), by number.
	trials       map[string]map[int]tune.FrozenTrial
	remoteTrials map[string]map[int]*tune.FrozenTrial

	// Records go to the primary in batches of swaps (see swapOf), of
	// puts or of deletes of one kind; the other kinds one by one. A
	// batch is flushed before any other entry, so the order of the
	// journal is kept. batched holds the batch's journal entries.
	batch   []store.RecordSwap
	batched []sqlite.Pending

	// The records of the chunk of entries being replayed, read by
	// prefetch: the fallback's (missing: deleted there), and the
	// primary's of the entries whose base is checked.
	local, remote map[recKey]*store.Record
}

// prefetch reads the records the record entries among ps name, from the
// fallback and, where their base is checked (see primaryKeeps), from the
// primary, with the primary's records of the leases entries were written
// under (see superseded): one batch per kind and store, not a read per
// entry. Each record has one entry per target, so no entry of the chunk
// changes what another one reads.
func (r *replayer) prefetch(ps []sqlite.Pending) error {
	local, remote := map[string][]string{}, map[string][]string{}
	for _, p := range ps {
		if b, ok := sqlite.ParseLeaseBase(p.Base); ok {
			remote[b.Kind] = append(remote[b.Kind], b.Key)
			if r.lost { // for ownLease
				local[b.Kind] = append(local[b.Kind], b.Key)
			}
		}
		if p.Kind != "record" || p.A == store.TokenKind {
			continue
		}
		local[p.A] = append(local[p.A], p.B)
		if checksBase(p) {
			remote[p.A] = append(remote[p.A], p.B)
		}
	}
	var err error
	if r.local, err = getRecords(r.ctx, r.fallback, local); err != nil {
		return err
	}
	r.remote, err = getRecords(r.ctx, r.primary, remote)
	return err
}

// getRecords reads the records of each kind's keys from g, in one
// GetRecords per kind.
func getRecords(ctx context.Context, g store.RecordGetter, keys map[string][]string) (map[recKey]*store.Record, error) {
	out := map[recKey]*store.Record{}
	for kind, ks := range keys {
		recs, err := g.GetRecords(ctx, kind, ks)
		if err != nil {
			return nil, err
		}
		for _, rec := range recs {
			out[recKey{kind, rec.Key}] = rec
		}
	}
	return out, nil
}

// replay copies one entry and clears it from the journal (a batched
// record is cleared by the flush that writes it).
func (r *replayer) replay(p sqlite.Pending) error {
	if p.Kind != "record" {
		if err := r.flush(); err != nil {
			return err
		}
	}
	var err error
	switch p.Kind {
	case "run":
		err = r.run(p)
	case "record":
		var batched bool
		if batched, err = r.record(p); batched || err != nil {
			return err
		}
	case "study":
		err = r.putStudy(p.A)
	case "trial":
		err = r.trial(p)
	default:
		err = fmt.Errorf("journal: unknown kind %q", p.Kind)
	}
	if err != nil {
		return err
	}
	return r.fallback.ClearPending(r.ctx, p)
}

func (r *replayer) run(p sqlite.Pending) error {
	if r.superseded(p) {
		return nil
	}
	run, err := r.fallback.GetRun(r.ctx, p.A)
	if errors.Is(err, store.ErrNotFound) { // deleted while journalled
		if err := r.primary.DeleteRun(r.ctx, p.A); err != nil {
			return err
		}
		r.n.Runs++
		return nil
	}
	if err != nil {
		return err
	}
	if run.ID != p.A {
		return fmt.Errorf("journalled run %s is missing from the fallback", p.A)
	}
	return r.putRun(p, run)
}

// record adds a record's put, or its delete if it is gone from the
// fallback, to the batch (batched true). A record written on the
// fallback over a state other than the primary's current one is left as
// the primary has it and reported in Conflicts: during an outage a
// process reads the fallback, which may lack what the primary holds (a
// model name's stages and aliases, say), and copying what it wrote over
// the primary's would lose that. A lease is copied on its own (see
// lease).
func (r *replayer) record(p sqlite.Pending) (batched bool, err error) {
	if p.A == store.TokenKind {
		return false, r.tokens()
	}
	rec := r.local[recKey{p.A, p.B}]
	if r.superseded(p) || r.primaryKeeps(p, rec) {
		return false, nil
	}
	if isLease(p.A) {
		return false, r.lease(p, rec)
	}
	// A batch holds puts, or deletes of one kind, so that flushing it
	// before the next kind of entry keeps the journal's order.
	if len(r.batch) > 0 && (r.batch[0].Delete != (rec == nil) || rec == nil && r.batch[0].Record.Kind != p.A) {
		if err := r.flush(); err != nil {
			return false, err
		}
	}
	r.batch = append(r.batch, r.swapOf(p, rec))
	r.batched = append(r.batched, p)
	if len(r.batched) >= replayChunk {
		return true, r.flush()
	}
	return true, nil
}

// tokens raises the primary's fencing token counter to the fallback's,
// never lowers it: the tokens handed out on either store must all be
// lower than those handed out after the primary returns, and neither
// store's value is the state of both.
func (r *replayer) tokens() error {
	if err := r.flush(); err != nil {
		return err
	}
	n, err := store.LastToken(r.ctx, r.fallback)
	if err != nil {
		return err
	}
	if err := store.AdvanceTokens(r.ctx, r.primary, n); err != nil {
		return err
	}
	r.n.Records++
	return nil
}

// primaryKeeps reports whether the primary's value of p's record stands:
// it was not the state the fallback's writes were made on, and differs
// from the fallback's value rec (nil: deleted) — a conflict, counted.
// Once the primary has lost its data (r.lost), a record it lacks is not
// one removed there since: the fallback's value is copied.
func (r *replayer) primaryKeeps(p sqlite.Pending, rec *store.Record) bool {
	if !checksBase(p) {
		return false
	}
	cur := r.remote[recKey{p.A, p.B}]
	now := sqlite.RecordBase(cur)
	if now == p.Base || now == sqlite.RecordBase(rec) || r.lost && cur == nil {
		return false
	}
	r.n.Conflicts = append(r.n.Conflicts, p.A+"/"+p.B)
	return true
}

// superseded reports whether p was written under a lease acquisition
// (its base names it, see sqlite.LeaseBase) that a newer holder has
// replaced on the primary since: the primary's record of the lease holds
// a greater token, or, for an acquisition written there, is gone (a
// successor took it over and released it, or housekeeping removed the
// run). The write was valid on the fallback when made, but the newer
// holder's state on the primary stands; the entry is a conflict,
// counted. Tokens of the two stores are compared only for the same
// lease, which an acquisition made on the fallback during an outage
// usually has alone. Once the primary has lost its data (r.lost), its
// tokens restarted and a missing lease was lost with it, so only a
// lease other than the fallback's own supersedes (see ownLease).
func (r *replayer) superseded(p sqlite.Pending) bool {
	b, ok := sqlite.ParseLeaseBase(p.Base)
	if !ok {
		return false
	}
	lease := r.remote[recKey{b.Kind, b.Key}]
	switch {
	case r.lost:
		if r.ownLease(b, lease) {
			return false
		}
	case lease == nil && !b.Primary || lease != nil && store.LeaseToken(lease) <= b.Token:
		return false
	}
	name := p.A + "/" + p.B
	if p.Kind == "run" {
		name = "run/" + p.A
	}
	r.n.Conflicts = append(r.n.Conflicts, name)
	return true
}

// checksBase reports whether replaying p's record checks the primary's
// value against p.Base. A journal entry without a base (written before
// bases were kept), and a lease's, copies as it always did: a lease
// belongs to its holder, whose last write (or release) stands wherever
// it was made.
func checksBase(p sqlite.Pending) bool {
	return p.Base != "" && p.A != store.LeaseKind && p.A != store.ClaimKind
}

// swapOf returns the change that copies the fallback's state of p's
// record, rec (nil: deleted), to the primary: made only while the
// primary's record is still as prefetch read it, when primaryKeeps
// judged from that read, so that a write on the primary after the read
// stands (a conflict); else whatever the primary holds.
func (r *replayer) swapOf(p sqlite.Pending, rec *store.Record) store.RecordSwap {
	sw := store.RecordSwap{Record: store.Record{Kind: p.A, Key: p.B}, Delete: rec == nil, Blind: !checksBase(p),
		Old: store.SwapOld(r.remote[recKey{p.A, p.B}])}
	if rec != nil {
		sw.Record = *rec
	}
	return sw
}

// flush writes the batch to the primary, counts the changes it refused
// as conflicts, and clears the batch's entries from the journal.
func (r *replayer) flush() error {
	if len(r.batched) == 0 {
		return nil
	}
	refused, err := r.write(r.batch)
	if err != nil {
		return err
	}
	if err := r.fallback.ClearPending(r.ctx, r.batched...); err != nil {
		return err
	}
	for _, i := range refused {
		r.n.Conflicts = append(r.n.Conflicts, r.batched[i].A+"/"+r.batched[i].B)
	}
	r.n.Records += len(r.batched) - len(refused)
	r.batch, r.batched = r.batch[:0], r.batched[:0]
	return nil
}

// write makes a batch of swaps, of puts or of deletes of one kind, on
// the primary, and returns the indices of those it refused. A primary
// that is no store.RecordSwapper makes them one by one, a delete after a
// read of its record (see store.SwapRecords).
func (r *replayer) write(batch []store.RecordSwap) ([]int, error) {
	return store.SwapRecords(r.ctx, r.primary, batch)
}
