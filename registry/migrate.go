package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tabforge/tabforge/internal/formatversion"
	"github.com/tabforge/tabforge/store"
)

// KindMeta holds the registry's own bookkeeping: the layout record,
// which says that Migrate has brought the store to a layout version.
const KindMeta = "registry.meta"

// layoutKey is the key of the layout record in KindMeta.
const layoutKey = "layout"

// LayoutVersion is the layout Migrate brings a store to and records.
// A later step of Migrate raises it, so that stores migrated before the
// step run Migrate once more, and only once.
//
//	1  names: versions, stages and events belong to a name
//	2  every name has a Summary of its history (KindSummary)
//	3  every version has its entry in the version index (KindVersions)
const LayoutVersion = 3

// layoutRecord is the value of the layout record.
type layoutRecord struct {
	Version  int       `json:"version"`
	Migrated time.Time `json:"migrated"`
}

// Migration counts what Migrate changed.
type Migration struct {
	Models int `json:"models"` // versions given a name
	Slots  int `json:"slots"`  // store-wide stage records moved to a name
	Events int `json:"events"` // history events given a name
}

// Migrate brings a store written before names existed to the current
// layout, then records LayoutVersion in the store so that Open never
// migrates it again. It is a no-op on a current store, but lists every
// model, stage record and event to find out (a year of hot swaps every
// five minutes is 100,000 events, half a second); Open calls it only on
// a store without the record, and MigrateImported after store import.
// Its steps:
//
//   - every version without a name gets one derived from its run's data
//     file (NameFromPath of DatasetPath, else of the config's data key);
//   - the store-wide production and staging records become the stages of
//     the name of the version holding them, the production rollback stack
//     keeping only versions of that name, and are then removed;
//   - every history event without a name gets its version's;
//   - every version without an entry in the version index
//     (KindVersions) gets one;
//   - every name's Summary takes in the name's whole history (merged
//     into what processes wrote meanwhile, never written over).
//
// Each step is a replayable record write and the old stage records go
// last, so a migration cut short (it records no layout then) is finished
// by the next one, and two processes migrating at once write the same
// records. A stage a name already holds is never overwritten: the
// stages move by compare-and-swap, so neither a second migration nor a
// promotion made meanwhile is undone.
func (r *Registry) Migrate(ctx context.Context) (Migration, error) {
	var mig Migration
	models, all, err := r.nameModels(ctx, &mig)
	if err != nil {
		return mig, err
	}
	if err := r.reindex(ctx, all); err != nil {
		return mig, err
	}
	events, err := r.nameEvents(ctx, models, &mig)
	if err != nil {
		return mig, err
	}
	if err := r.summarise(ctx, events); err != nil {
		return mig, err
	}
	slots, err := r.rec.ListRecords(ctx, KindStage, "")
	if err != nil {
		return mig, fmt.Errorf("registry: migrate: %w", err)
	}
	for _, rec := range slots {
		if err := r.moveSlot(ctx, rec, models); err != nil {
			return mig, err
		}
		mig.Slots++
	}
	return mig, r.markLayout(ctx)
}

// MigrateImported migrates records written to rec in bulk, as store
// import writes a dump that may come from a store of an older layout:
// once rec records a layout, Open no longer looks for old records. A
// store that records none is left as it is, for Open to migrate when it
// is first used (so importing a dump into an empty store reproduces the
// exported one). A layout newer than this build's is refused as Open
// refuses it, not migrated by older rules.
func MigrateImported(ctx context.Context, rec store.Swapper) error {
	r := New(rec)
	v, _, err := r.layout(ctx)
	if err != nil || v == 0 {
		return err
	}
	if v > LayoutVersion {
		return fmt.Errorf("registry: the store's %w", formatversion.Check("registry layout", v, 1, LayoutVersion))
	}
	_, err = r.Migrate(ctx)
	return err
}

// layout returns the layout version the store records (0 for none) and
// the record's value (nil for none).
func (r *Registry) layout(ctx context.Context) (int, []byte, error) {
	rec, err := r.rec.GetRecord(ctx, KindMeta, layoutKey)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("registry: read the layout record: %w", err)
	}
	var l layoutRecord
	if err := json.Unmarshal(rec.Value, &l); err != nil {
		return 0, nil, fmt.Errorf("registry: layout record: %w", err)
	}
	return l.Version, rec.Value, nil
}

// markLayout records LayoutVersion, unless the store records a later one
// (written by a newer tabforge, whose record must stay).
func (r *Registry) markLayout(ctx context.Context) error {
	b, err := json.Marshal(layoutRecord{Version: LayoutVersion, Migrated: r.now().UTC()})
	if err != nil {
		return fmt.Errorf("registry: encode the layout record: %w", err)
	}
	for range maxSwaps {
		v, old, err := r.layout(ctx)
		if err != nil || v >= LayoutVersion {
			return err
		}
		ok, err := r.rec.SwapRecord(ctx, KindMeta, layoutKey, old, b)
		if err != nil {
			return fmt.Errorf("registry: save the layout record: %w", err)
		}
		if ok {
			return nil
		}
	}
	return fmt.Errorf("registry: the layout record changed under each of %d attempts to write it; try again", maxSwaps)
}

// nameModels names every version that has no name and makes sure each
// name has its record; it returns every version's name, and every
// version.
func (r *Registry) nameModels(ctx context.Context, mig *Migration) (map[string]string, []*Model, error) {
	recs, err := r.rec.ListRecords(ctx, KindModel, "")
	if err != nil {
		return nil, nil, fmt.Errorf("registry: migrate: %w", err)
	}
	names := make(map[string]string, len(recs))
	models := make([]*Model, 0, len(recs))
	var added []string
	for _, rec := range recs {
		m, err := decodeModel(rec)
		if err != nil {
			return nil, nil, err
		}
		if m.Name == "" {
			m.Name = legacyName(m)
			if err := r.put(ctx, m); err != nil {
				return nil, nil, fmt.Errorf("registry: migrate: %w", err)
			}
			mig.Models++
			added = append(added, m.Name)
		}
		names[m.Version] = m.Name
		models = append(models, m)
	}
	slices.Sort(added)
	for _, name := range slices.Compact(added) {
		if _, err := r.ensureName(ctx, name); err != nil {
			return nil, nil, fmt.Errorf("registry: migrate: %w", err)
		}
	}
	return names, models, nil
}

// legacyName is the name of a version registered before names: the stem
// of its run's data file.
func legacyName(m *Model) string {
	path := m.DatasetPath
	if path == "" && len(m.Config) > 0 {
		var cfg struct {
			Data string `json:"data"`
		}
		if json.Unmarshal(m.Config, &cfg) == nil {
			path = cfg.Data
		}
	}
	if path == "" {
		return "model"
	}
	return NameFromPath(path)
}

// nameEvents gives every event without a name its version's and
// returns the whole history, named.
func (r *Registry) nameEvents(ctx context.Context, models map[string]string, mig *Migration) ([]Event, error) {
	recs, err := r.rec.ListRecords(ctx, KindEvent, "")
	if err != nil {
		return nil, fmt.Errorf("registry: migrate: %w", err)
	}
	events := make([]Event, 0, len(recs))
	for _, rec := range recs {
		e, err := decodeEvent(rec)
		if err != nil {
			return nil, err
		}
		events = append(events, e)
		if e.Name != "" {
			continue
		}
		if e.Name = models[e.Version]; e.Name == "" {
			e.Name = models[e.Replaced]
		}
		if e.Name == "" {
			continue // an event of a version that is gone
		}
		events[len(events)-1].Name = e.Name
		b, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("registry: encode event: %w", err)
		}
		if err := r.rec.PutRecord(ctx, KindEvent, rec.Key, b); err != nil {
			return nil, fmt.Errorf("registry: migrate event %s: %w", rec.Key, err)
		}
		mig.Events++
	}
	return events, nil
}

// moveSlot moves one store-wide stage record to the name of the version
// holding it, then deletes it.
func (r *Registry) moveSlot(ctx context.Context, rec *store.Record, models map[string]string) error {
	s, err := decodeSlot(rec)
	if err != nil {
		return fmt.Errorf("migrate: %w", err) // decodeSlot's error names the registry
	}
	if name := models[s.Version]; name != "" {
		if _, err := r.ensureName(ctx, name); err != nil {
			return fmt.Errorf("registry: migrate: %w", err)
		}
		var prev []string
		for _, v := range s.Previous {
			if models[v] == name {
				prev = append(prev, v)
			}
		}
		s.Previous = prev
		// Swapped, not written over: another process may be migrating or
		// promoting this name at the same moment.
		_, err := r.updateName(ctx, name, func(nr *nameRecord) error {
			switch {
			case Stage(rec.Key) == Production && nr.Production.Version == "":
				nr.Production = s
			case Stage(rec.Key) == Staging && nr.Staging.Version == "" && nr.Production.Version != s.Version:
				nr.Staging = slot{Version: s.Version, Since: s.Since}
			default:
				return errUnchanged
			}
			return nil
		})
		if err != nil && !errors.Is(err, errUnchanged) {
			return fmt.Errorf("registry: migrate: %w", err)
		}
	}
	if err := r.rec.DeleteRecord(ctx, KindStage, rec.Key); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("registry: migrate: remove the old %s record: %w", rec.Key, err)
	}
	return nil
}
