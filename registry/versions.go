package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tabforge/tabforge/store"
)

// KindVersions indexes each name's versions by creation time: key
// NAME/CREATED/VERSION (CREATED in indexTime, so keys sort by time within
// a name), value the version. A name retrained every hour gathers
// thousands of versions, and a page of the newest ones (Versions) reads
// that page of this index and the page's model records, never every
// model record of the store, as List does.
const KindVersions = "registry.versions"

// indexTime is the creation time in an index key: fixed width, so that
// key order is time order.
const indexTime = "20060102T150405.000000000Z"

// versionKey is m's key in KindVersions.
func versionKey(m *Model) string {
	return m.Name + "/" + m.Created.UTC().Format(indexTime) + "/" + m.Version
}

// indexVersion writes m's entry in KindVersions (a replayable write).
func (r *Registry) indexVersion(ctx context.Context, m *Model) error {
	if err := r.putRecord(ctx, KindVersions, versionKey(m), []byte(m.Version)); err != nil {
		return fmt.Errorf("registry: index model %s: %w", m.Version, err)
	}
	return nil
}

// checkIndexRecord returns an error if rec is not an index entry: a key
// NAME/CREATED/VERSION whose value is VERSION.
func checkIndexRecord(rec *store.Record) error {
	parts := strings.Split(rec.Key, "/")
	if len(parts) != 3 || CheckName(parts[0]) != nil || parts[2] != string(rec.Value) {
		return fmt.Errorf("registry: version index entry %q (%q) is not NAME/CREATED/VERSION with the version as value", rec.Key, rec.Value)
	}
	return nil
}

// DefaultVersionLimit is the page size of VersionQuery's zero Limit.
const DefaultVersionLimit = 100

// VersionQuery selects a page of one name's versions, newest first.
type VersionQuery struct {
	// Offset skips that many of the newest versions: a page reads every
	// index entry before it, so deep pages cost more; Before does not.
	Offset int
	// Before, a version of the name, makes the page the versions just
	// older than it (keyset paging: the page reads only its own index
	// entries, however deep). Not with Offset or After.
	Before string
	// After, a version of the name, makes the page the versions just
	// newer than it, still newest first; more then says whether newer
	// versions precede the page. Not with Offset or Before.
	After string
	// At is the creation time of the Before or After version, as a
	// page's Position gives it: the page then starts at that place in
	// the index without reading the version's record, so a link to the
	// next page still leads there once its version is gone (deleted or
	// pruned). Zero reads the record, and a version gone is an error.
	At time.Time
	// Limit is the page size; 0 means DefaultVersionLimit.
	Limit int
	// Held adds to the page every version holding a stage or an alias,
	// wherever it is in the order.
	Held bool
}

// Versions returns a page of name's versions with their stage and
// aliases, newest first, and whether older versions follow the page
// (with After, whether newer ones precede it): VersionsPage's Models
// and More.
func (r *Registry) Versions(ctx context.Context, name string, q VersionQuery) (ms []*Model, more bool, err error) {
	p, err := r.VersionsPage(ctx, name, q)
	if err != nil {
		return nil, false, err
	}
	return p.Models, p.More, nil
}

// versionKeyOf is version's key in the index of name's versions.
func (r *Registry) versionKeyOf(ctx context.Context, name, version string) (string, error) {
	m, err := r.get(ctx, version)
	if err != nil {
		return "", err
	}
	if m.Name != name {
		return "", fmt.Errorf("registry: version %s is of %q, not %q: %w", version, m.Name, name, store.ErrNotFound)
	}
	return versionKey(m), nil
}

// CountVersions returns how many versions name has: all of them with
// the zero after, else those newer than the place after (a page's
// Newest, say; its version need not exist). It counts on the version
// index without reading a version: one index lookup where the store
// counts (store.RecordCounter). An entry whose version is gone (a
// delete cut short) counts until it is removed.
func (r *Registry) CountVersions(ctx context.Context, name string, after Position) (int, error) {
	from := name + "/"
	if after != (Position{}) {
		from = after.key(name) + "\x00"
	}
	n, err := store.CountRecords(ctx, r.rec, KindVersions, from, name+"0")
	if err != nil {
		return 0, fmt.Errorf("registry: count versions of %q: %w", name, err)
	}
	return n, nil
}

// models reads the model records of versions in one call where the
// store can (store.RecordGetter); a version that is gone (deleted since
// its index entry was read) is left out.
func (r *Registry) models(ctx context.Context, versions []string) ([]*Model, error) {
	var recs []*store.Record
	if g, ok := r.rec.(store.RecordGetter); ok {
		var err error
		if recs, err = g.GetRecords(ctx, KindModel, versions); err != nil {
			return nil, fmt.Errorf("registry: read %d model versions: %w", len(versions), err)
		}
	} else {
		for _, v := range versions {
			rec, err := r.rec.GetRecord(ctx, KindModel, v)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("registry: model version %q: %w", v, err)
			}
			recs = append(recs, rec)
		}
	}
	out := make([]*Model, 0, len(recs))
	for _, rec := range recs {
		m, err := decodeModel(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// reindex writes the index entry of every version that lacks one
// (Migrate's layout 3 step), reading the index once.
func (r *Registry) reindex(ctx context.Context, models []*Model) error {
	recs, err := r.rec.ListRecords(ctx, KindVersions, "")
	if err != nil {
		return fmt.Errorf("registry: migrate: list the version index: %w", err)
	}
	have := make(map[string]bool, len(recs))
	for _, rec := range recs {
		have[rec.Key] = true
	}
	for _, m := range models {
		if !have[versionKey(m)] {
			if err := r.indexVersion(ctx, m); err != nil {
				return fmt.Errorf("registry: migrate: %w", err)
			}
		}
	}
	return nil
}
