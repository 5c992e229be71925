package registry

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tabforge/tabforge/store"
)

// Pruned is what PruneHistory removed (in a dry run, would remove): the
// events older than Before, counted per name, and those of them it kept.
// Events of versions removed before names existed have the name "".
type Pruned struct {
	Before  time.Time      `json:"before"`
	Removed map[string]int `json:"removed"`
	Kept    map[string]int `json:"kept"`
}

// prunePage is how many events PruneHistory reads at a time.
const prunePage = 2048

// PruneHistory removes the history events older than before, except,
// within each name:
//
//   - each version's newest event that put it in a stage (a promotion,
//     an archiving, a rollback), which says when and why it got there,
//     so the holders of production and staging keep theirs;
//   - for each current alias, the newest event that pointed it at its
//     version, and, for a current traffic route, the newest route event.
//
// Nothing else reads the history: stages and the rollback stack live in
// the name's record, which Rollback alone reads, and what the history
// says of archived versions and retrain decisions lives in the name's
// Summary, which PruneHistory requires (a store of layout 2, see Open).
// So resolution, rollback, models list and retrain's max age answer the
// same before and after it.
//
// It reads the history from its newest end a page at a time, deciding
// each event on the newer ones and the names' records, and removes a
// page's events in one batch (store.DeleteRecords): a prune cut short
// leaves only events the next one removes, and servers and watchers
// running meanwhile read none of them. Events written while it runs are
// newer than before and stay.
func (r *Registry) PruneHistory(ctx context.Context, before time.Time, dry bool) (*Pruned, error) {
	if v, _, err := r.layout(ctx); err != nil || v < 2 {
		if err == nil {
			err = fmt.Errorf("registry: prune the history: the store records layout %d, before summaries; open the registry to migrate it first", v)
		}
		return nil, err
	}
	st, err := r.stages(ctx, false)
	if err != nil {
		return nil, err
	}
	p := &Pruned{Before: before.UTC(), Removed: map[string]int{}, Kept: map[string]int{}}
	keep := explainer{names: st.names, seen: map[string]bool{}}
	cut := eventKeyFrom(before)
	for to := ""; ; {
		recs, err := store.PageRecords(ctx, r.rec, KindEvent, "", to, prunePage, true)
		if err != nil {
			return p, fmt.Errorf("registry: prune the history: %w", err)
		}
		if len(recs) == 0 {
			return p, nil
		}
		var gone []string
		removed := map[string]int{}
		for _, rec := range recs {
			e, err := decodeEvent(rec)
			if err != nil {
				return p, err
			}
			switch explains := keep.explains(e); {
			case rec.Key >= cut:
			case explains:
				p.Kept[e.Name]++
			default:
				gone = append(gone, rec.Key)
				removed[e.Name]++
			}
		}
		if !dry && len(gone) > 0 {
			if err := store.DeleteRecords(ctx, r.rec, KindEvent, gone); err != nil {
				return p, fmt.Errorf("registry: prune the history: %w", err)
			}
		}
		for name, n := range removed {
			p.Removed[name] += n
		}
		to = recs[len(recs)-1].Key
	}
}

// explainer tells, event by event from the newest, which events explain
// the current state of their name (see PruneHistory).
type explainer struct {
	names map[string]*nameRecord
	seen  map[string]bool // "stage" / "alias" / "route", name, version or alias
}

// explains reports whether e is the newest of its kind the current
// state needs; it must see the events newest first.
func (x explainer) explains(e Event) bool {
	first := func(parts ...string) bool {
		k := strings.Join(parts, "\x00")
		if x.seen[k] {
			return false
		}
		x.seen[k] = true
		return true
	}
	nr := x.names[e.Name]
	switch {
	case e.Stage != "" && e.Version != "":
		return first("stage", e.Name, e.Version)
	case nr == nil:
		return false
	case e.Action == "alias":
		a, ok := nr.Aliases[e.Alias]
		return ok && a.Version == e.Version && first("alias", e.Name, e.Alias)
	case e.Action == "route":
		return !nr.Route.IsZero() && first("route", e.Name)
	}
	return false
}
