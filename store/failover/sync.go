package failover

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/sqlite"
	"github.com/tabforge/tabforge/tune"
)

// SyncCounts says how many journalled keys a Sync copied to the primary.
type SyncCounts struct {
	Runs, Records, Studies, Trials int
	// Left is the number of journal entries still pending.
	Left int
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
// them when target is ""); see sqlite.Pending.Target.
func ReplayTo(ctx context.Context, fallback *sqlite.Store, primary store.Store, target string) (SyncCounts, error) {
	var n SyncCounts
	all, err := fallback.PendingWrites(ctx)
	if err != nil {
		return n, err
	}
	var pending []sqlite.Pending
	for _, p := range all {
		if target == "" || p.Target == target {
			pending = append(pending, p)
		}
	}
	if len(pending) == 0 {
		return n, nil
	}
	if err := primary.Ping(ctx); err != nil {
		n.Left = len(pending)
		return n, fmt.Errorf("sync: %w", err)
	}
	studies := map[string]store.Study{}
	if list, err := fallback.ListStudies(ctx); err != nil {
		return n, fmt.Errorf("sync: %w", err)
	} else {
		for _, st := range list {
			studies[st.Name] = st
		}
	}
	putStudies := map[string]bool{}
	trials := map[string]map[int]tune.FrozenTrial{}
	putStudy := func(name string) error {
		if putStudies[name] {
			return nil
		}
		st, ok := studies[name]
		if !ok {
			return fmt.Errorf("study %q is journalled but not in the fallback: %w", name, store.ErrNotFound)
		}
		if _, err := primary.PutStudy(ctx, st); err != nil {
			return err
		}
		putStudies[name] = true
		n.Studies++
		return nil
	}
	// Record puts go to the primary in batches; deletes and the other kinds
	// one by one. A batch is flushed before any other entry, so the order
	// of the journal is kept.
	var batch []*store.Record
	var batched []sqlite.Pending
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := primary.PutRecords(ctx, batch); err != nil {
			return err
		}
		for _, p := range batched {
			if err := fallback.ClearPending(ctx, p); err != nil {
				return err
			}
		}
		n.Records += len(batch)
		batch, batched = batch[:0], batched[:0]
		return nil
	}
	for i, p := range pending {
		err := func() error {
			if p.Kind != "record" {
				if err := flush(); err != nil {
					return err
				}
			}
			switch p.Kind {
			case "run":
				r, err := fallback.GetRun(ctx, p.A)
				if errors.Is(err, store.ErrNotFound) { // deleted while journalled
					if err := primary.DeleteRun(ctx, p.A); err != nil {
						return err
					}
					n.Runs++
					break
				}
				if err != nil {
					return err
				}
				if r.ID != p.A {
					return fmt.Errorf("journalled run %s is missing from the fallback", p.A)
				}
				if err := primary.PutRun(ctx, r); err != nil {
					return err
				}
				n.Runs++
			case "record":
				r, err := fallback.GetRecord(ctx, p.A, p.B)
				switch {
				case errors.Is(err, store.ErrNotFound):
					if err := flush(); err != nil {
						return err
					}
					if err := primary.DeleteRecord(ctx, p.A, p.B); err != nil {
						return err
					}
					n.Records++
				case err != nil:
					return err
				default:
					batch, batched = append(batch, r), append(batched, p)
					if len(batch) >= 500 {
						return flush()
					}
					return nil // cleared by flush
				}
			case "study":
				if err := putStudy(p.A); err != nil {
					return err
				}
			case "trial":
				if err := putStudy(p.A); err != nil {
					return err
				}
				byNumber, ok := trials[p.A]
				if !ok {
					list, err := fallback.Trials(ctx, studies[p.A].ID)
					if err != nil {
						return err
					}
					byNumber = map[int]tune.FrozenTrial{}
					for _, t := range list {
						byNumber[t.Number] = t
					}
					trials[p.A] = byNumber
				}
				num, err := strconv.Atoi(p.B)
				if err != nil {
					return fmt.Errorf("journal: bad trial number %q", p.B)
				}
				t, ok := byNumber[num]
				if !ok {
					return fmt.Errorf("journalled trial %d of study %q is missing from the fallback", num, p.A)
				}
				if err := primary.PutTrial(ctx, p.A, t); err != nil {
					return err
				}
				n.Trials++
			default:
				return fmt.Errorf("journal: unknown kind %q", p.Kind)
			}
			return fallback.ClearPending(ctx, p)
		}()
		if err != nil {
			n.Left = len(pending) - i
			return n, fmt.Errorf("sync %s %s/%s: %w", p.Kind, p.A, p.B, err)
		}
	}
	if err := flush(); err != nil {
		n.Left = len(batch)
		return n, fmt.Errorf("sync records: %w", err)
	}
	return n, nil
}
