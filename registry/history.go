package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tabforge/tabforge/store"
)

// HistoryQuery selects part of the history; the zero value selects all
// of it.
type HistoryQuery struct {
	// Limit keeps the newest Limit events that match; 0 keeps all.
	Limit int
	// Since keeps events at or after Since; zero keeps all.
	Since time.Time
}

// HistoryWith is History restricted by q. On a store that pages its
// records (store.RecordPager: SQLite, Redis and their failover), it
// reads the history from its newest end and stops once it holds Limit
// matching events, or at Since (on others it reads it all): the history grows by an event with every
// promotion, rollback and alias change (a year of hot swaps every five
// minutes is 100,000 of them), and someone asking what happened lately
// should not pay for all of it. Events are oldest first.
func (r *Registry) HistoryWith(ctx context.Context, ref string, q HistoryQuery) ([]Event, error) {
	if q.Limit < 0 {
		return nil, fmt.Errorf("registry: history limit %d is negative", q.Limit)
	}
	if ref == "" {
		return r.events(ctx, eventFilter{}, q)
	}
	if _, err := r.nameRecord(ctx, ref); err == nil {
		return r.events(ctx, eventFilter{name: ref}, q)
	} else if !errors.Is(err, ErrUnknownName) {
		return nil, err
	}
	m, err := r.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	return r.events(ctx, eventFilter{version: m.Version}, q)
}

// eventFilter selects the events of a name and of a version (empty:
// any).
type eventFilter struct{ name, version string }

func (f eventFilter) match(e Event) bool {
	return (f.name == "" || e.Name == f.name) && (f.version == "" || e.Version == f.version || e.Replaced == f.version)
}

// eventKeyFrom is the smallest key of an event at or after t (see
// putEvent).
func eventKeyFrom(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return fmt.Sprintf("%020d", t.UnixNano())
}

// events returns the events f and q select, oldest first.
func (r *Registry) events(ctx context.Context, f eventFilter, q HistoryQuery) ([]Event, error) {
	out := []Event{} // none is [] in JSON (models history, show), not null
	keep := func(recs []*store.Record) error {
		for _, rec := range recs {
			e, err := decodeEvent(rec)
			if err != nil {
				return err
			}
			if f.match(e) && !e.Time.Before(q.Since) {
				out = append(out, e)
			}
		}
		return nil
	}
	if _, ok := r.rec.(store.RecordPager); !ok || (q.Limit == 0 && q.Since.IsZero()) {
		recs, err := r.rec.ListRecords(ctx, KindEvent, "")
		if err != nil {
			return nil, fmt.Errorf("registry: history: %w", err)
		}
		if err := keep(recs); err != nil {
			return nil, err
		}
		if q.Limit > 0 && len(out) > q.Limit {
			out = out[len(out)-q.Limit:]
		}
		return out, nil
	}
	// Newest first, in pages that grow while the filter keeps few of
	// them (a name among many).
	from, to := eventKeyFrom(q.Since), ""
	for page := max(q.Limit, 64); q.Limit == 0 || len(out) < q.Limit; page = min(2*page, 4096) {
		recs, err := store.PageRecords(ctx, r.rec, KindEvent, from, to, page, true)
		if err != nil {
			return nil, fmt.Errorf("registry: history: %w", err)
		}
		if len(recs) == 0 {
			break
		}
		if err := keep(recs); err != nil {
			return nil, err
		}
		to = recs[len(recs)-1].Key
		if to == "" {
			// "" is the least key, and an empty bound is no bound: paging
			// on would read from the newest again, for ever. An event keyed
			// "" comes only from a damaged store or dump.
			break
		}
	}
	if q.Limit > 0 {
		out = out[:min(len(out), q.Limit)]
	}
	slices.Reverse(out)
	return out, nil
}
