package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/tabforge/tabforge/store"
)

// KindSummary holds one Summary per name (key: the name).
const KindSummary = "registry.summary"

// Summary is what a name's history says about its versions, kept in one
// record per name and brought up to date with every event the registry
// writes: telling an archived version from one never staged (models
// list) and a champion's age (continuous) read it, not the history,
// which grows by an event with every change (a year of hot swaps every
// five minutes is 100,000 of them) and which gc may prune (PruneHistory).
//
// Every field only grows, and two summaries merge by union (and, for
// counts, the larger): a migration folding the history into a summary
// that processes already keep up to date neither loses their updates
// nor counts an event twice.
type Summary struct {
	// Staged lists, sorted, the versions that ever entered or left a
	// stage, or were archived explicitly.
	Staged []string `json:"staged,omitempty"`
	// Retrains counts, per version, the retrain decisions (ActionRetrain
	// events) taken with it as the parent.
	Retrains map[string]int `json:"retrains,omitempty"`
	// Retrained is, per version a retrain decision was about, the first
	// such decision: its parent and what was decided.
	Retrained map[string]Retrain `json:"retrained,omitempty"`
}

// Retrain is a retrain decision about a version, as Summary keeps it.
type Retrain struct {
	Parent string `json:"parent"`
	// Decision is the event's Reason up to its first ": " (Record's
	// convention: "promote: ...", "keep: ...").
	Decision string `json:"decision"`
}

// WasStaged reports whether v ever held a stage (or was archived).
func (s *Summary) WasStaged(v string) bool {
	_, ok := slices.BinarySearch(s.Staged, v)
	return ok
}

// apply adds what e says to s and reports whether s changed.
func (s *Summary) apply(e Event) bool {
	changed := false
	if e.Stage != "" { // alias and route changes do not archive
		for _, v := range []string{e.Version, e.Replaced} {
			if i, ok := slices.BinarySearch(s.Staged, v); v != "" && !ok {
				s.Staged = slices.Insert(s.Staged, i, v)
				changed = true
			}
		}
	}
	if e.Action == ActionRetrain && e.Parent != "" {
		if s.Retrains == nil {
			s.Retrains = map[string]int{}
		}
		s.Retrains[e.Parent]++
		changed = true
		if _, ok := s.Retrained[e.Version]; e.Version != "" && !ok {
			if s.Retrained == nil {
				s.Retrained = map[string]Retrain{}
			}
			decision, _, _ := strings.Cut(e.Reason, ": ")
			s.Retrained[e.Version] = Retrain{Parent: e.Parent, Decision: decision}
		}
	}
	return changed
}

// merge adds o to s and reports whether s changed.
func (s *Summary) merge(o *Summary) bool {
	changed := false
	for _, v := range o.Staged {
		if i, ok := slices.BinarySearch(s.Staged, v); !ok {
			s.Staged = slices.Insert(s.Staged, i, v)
			changed = true
		}
	}
	for v, n := range o.Retrains {
		if n > s.Retrains[v] {
			if s.Retrains == nil {
				s.Retrains = map[string]int{}
			}
			s.Retrains[v] = n
			changed = true
		}
	}
	for v, rt := range o.Retrained {
		if _, ok := s.Retrained[v]; !ok {
			if s.Retrained == nil {
				s.Retrained = map[string]Retrain{}
			}
			s.Retrained[v] = rt
			changed = true
		}
	}
	return changed
}

// Summary returns name's summary (empty for a name whose history says
// nothing yet). It reads one record, however long the history.
func (r *Registry) Summary(ctx context.Context, name string) (*Summary, error) {
	rec, err := r.rec.GetRecord(ctx, KindSummary, name)
	if errors.Is(err, store.ErrNotFound) {
		return &Summary{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registry: read the summary of %q: %w", name, err)
	}
	return decodeSummary(rec)
}

func decodeSummary(rec *store.Record) (*Summary, error) {
	var s Summary
	if err := json.Unmarshal(rec.Value, &s); err != nil {
		return nil, fmt.Errorf("registry: summary record %s: %w", rec.Key, err)
	}
	slices.Sort(s.Staged) // a hand-edited record must not break the binary searches
	return &s, nil
}

// updateSummary applies change to name's summary by compare-and-swap,
// as updateName does to its record, creating the summary if there is
// none; a change that reports no change writes nothing.
func (r *Registry) updateSummary(ctx context.Context, name string, change func(*Summary) bool) error {
	for range maxSwaps {
		var old []byte
		s := &Summary{}
		rec, err := r.rec.GetRecord(ctx, KindSummary, name)
		switch {
		case err == nil:
			if s, err = decodeSummary(rec); err != nil {
				return err
			}
			old = rec.Value
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("registry: read the summary of %q: %w", name, err)
		}
		if !change(s) {
			return nil
		}
		b, err := json.Marshal(s)
		if err != nil {
			return fmt.Errorf("registry: encode the summary of %q: %w", name, err)
		}
		if old != nil {
			b = keepUnknown(old, b, reflect.TypeFor[Summary]())
		}
		ok, err := r.swap(ctx, KindSummary, name, old, b)
		if err != nil {
			return fmt.Errorf("registry: save the summary of %q: %w", name, err)
		}
		if ok {
			return nil
		}
	}
	return fmt.Errorf("registry: the summary of %q changed under each of %d attempts to update it; try again", name, maxSwaps)
}

// summarise folds events into a summary per name and merges each into
// its stored summary (Migrate's layout 2 step).
func (r *Registry) summarise(ctx context.Context, events []Event) error {
	folded := map[string]*Summary{}
	for _, e := range events {
		if e.Name == "" {
			continue // an event of a version that is gone
		}
		if folded[e.Name] == nil {
			folded[e.Name] = &Summary{}
		}
		folded[e.Name].apply(e)
	}
	for _, name := range slices.Sorted(maps.Keys(folded)) {
		if err := r.updateSummary(ctx, name, func(s *Summary) bool { return s.merge(folded[name]) }); err != nil {
			return fmt.Errorf("registry: migrate: %w", err)
		}
	}
	return nil
}
