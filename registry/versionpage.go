package registry

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tabforge/tabforge/store"
)

// maxIndexRounds bounds the index pages one VersionsPage reads: a page
// whose entries name versions gone (a delete cut short) is followed by
// the next, up to this many, so a run of stale entries neither ends the
// listing nor makes one request read the whole index.
const maxIndexRounds = 8

// A Position is a place in a name's version index: a version's creation
// time and the version, which need not exist any more. The zero
// Position is no place.
type Position struct {
	Version string
	Created time.Time
}

// PositionOf is m's place in its name's version index.
func PositionOf(m *Model) Position { return Position{Version: m.Version, Created: m.Created} }

// positionOf is the place of the index entry with key k (of a name).
func positionOf(k string) Position {
	parts := strings.Split(k, "/")
	if len(parts) != 3 {
		return Position{}
	}
	t, err := time.Parse(indexTime, parts[1])
	if err != nil {
		return Position{}
	}
	return Position{Version: parts[2], Created: t}
}

// key is p's index key within name.
func (p Position) key(name string) string {
	return name + "/" + p.Created.UTC().Format(indexTime) + "/" + p.Version
}

// A VersionPage is one page of a name's versions (VersionsPage).
type VersionPage struct {
	// Models are the page's versions, newest first, with their stage
	// and aliases (and with Held, every version holding one).
	Models []*Model
	// More says whether older versions follow the page (with After,
	// whether newer ones precede it).
	More bool
	// Newest and Oldest are the places of the page's first and last
	// index entries, live or not: the pages after and before it start
	// there (VersionQuery.After or Before with At). Zero if the page
	// read no entry.
	Newest, Oldest Position
}

// VersionsPage returns a page of name's versions (see VersionQuery),
// newest first (as List orders them, but for versions created in the
// same nanosecond). It reads the page's index entries (after Offset
// more), their model records, the name's record and its Summary, and
// with Before or After but no At that version's record: a page costs
// the same whatever the number of versions, but for its offset. Entries
// whose version is gone are passed over, reading further entries for
// the page up to maxIndexRounds pages of them; a page cut short there
// has fewer versions (or none) but More and its Oldest (or Newest) lead
// on past them. An unknown name is an error wrapping ErrUnknownName; an
// unknown Before or After version without At one wrapping
// store.ErrNotFound.
func (r *Registry) VersionsPage(ctx context.Context, name string, q VersionQuery) (*VersionPage, error) {
	if q.Offset < 0 || q.Limit < 0 {
		return nil, fmt.Errorf("registry: versions of %q: negative offset %d or limit %d", name, q.Offset, q.Limit)
	}
	if (q.Offset > 0 || q.After != "") && q.Before != "" || q.Offset > 0 && q.After != "" {
		return nil, fmt.Errorf("registry: versions of %q: more than one of offset, before and after", name)
	}
	nr, err := r.nameRecord(ctx, name)
	if err != nil {
		return nil, err
	}
	p, err := r.indexedPage(ctx, name, q)
	if err != nil {
		return nil, err
	}
	if q.Held {
		if err := r.addHeld(ctx, p, nr); err != nil {
			return nil, err
		}
	}
	sum, err := r.Summary(ctx, name)
	if err != nil {
		return nil, err
	}
	st := stageSet{names: map[string]*nameRecord{name: nr}, summaries: map[string]*Summary{name: sum}}
	for _, m := range p.Models {
		st.derive(m)
	}
	slices.SortFunc(p.Models, func(a, b *Model) int {
		return cmp.Or(b.Created.Compare(a.Created), strings.Compare(a.Version, b.Version))
	})
	return p, nil
}

// indexedPage reads q's page of name's index and the live versions its
// entries name, in rounds of a page of entries while versions are
// missing (see VersionsPage). Its Models are in the order read.
func (r *Registry) indexedPage(ctx context.Context, name string, q VersionQuery) (*VersionPage, error) {
	limit := cmp.Or(q.Limit, DefaultVersionLimit)
	from, to, desc, err := r.indexBounds(ctx, name, q)
	if err != nil {
		return nil, err
	}
	p := &VersionPage{}
	var first, last string // keys of the first and last entries read
	offset := q.Offset
	for round := 0; round < maxIndexRounds && len(p.Models) < limit; round++ {
		idx, err := store.PageRecords(ctx, r.rec, KindVersions, from, to, offset+limit+1, desc)
		if err != nil {
			return nil, fmt.Errorf("registry: versions of %q: %w", name, err)
		}
		p.More = len(idx) > offset+limit
		idx = idx[min(offset, len(idx)):min(offset+limit, len(idx))]
		offset = 0
		if len(idx) == 0 {
			break
		}
		if first == "" {
			first = idx[0].Key
		}
		last = idx[len(idx)-1].Key
		if desc {
			to = last
		} else {
			from = last + "\x00" // the least key after last
		}
		ms, err := r.indexedModels(ctx, name, idx)
		if err != nil {
			return nil, err
		}
		p.Models = append(p.Models, ms...)
		if !p.More {
			break
		}
	}
	end := positionOf(last)
	if len(p.Models) > limit {
		// The last round found more live versions than the page holds:
		// it ends at the last one it shows, and more follow.
		p.Models, p.More = p.Models[:limit], true
		end = PositionOf(p.Models[limit-1])
	}
	p.Newest, p.Oldest = positionOf(first), end
	if !desc {
		p.Newest, p.Oldest = end, positionOf(first)
	}
	return p, nil
}

// indexBounds are the key bounds and order of q's index page of name:
// keys in [from, to), descending with desc.
func (r *Registry) indexBounds(ctx context.Context, name string, q VersionQuery) (from, to string, desc bool, err error) {
	// '0' follows '/': the bounds hold exactly the keys NAME/...
	from, to, desc = name+"/", name+"0", true
	at := func(version string) (string, error) {
		if !q.At.IsZero() {
			return Position{Version: version, Created: q.At}.key(name), nil
		}
		return r.versionKeyOf(ctx, name, version)
	}
	switch {
	case q.Before != "":
		if to, err = at(q.Before); err != nil {
			return "", "", false, err
		}
	case q.After != "":
		k, err := at(q.After)
		if err != nil {
			return "", "", false, err
		}
		// k+"\x00" is the least key after k: the page starts past it.
		from, desc = k+"\x00", false
	}
	return from, to, desc, nil
}

// indexedModels reads the versions the index entries idx name, in idx's
// order, leaving out those gone and those whose record names another
// name (an edited or imported record).
func (r *Registry) indexedModels(ctx context.Context, name string, idx []*store.Record) ([]*Model, error) {
	versions := make([]string, 0, len(idx))
	for _, rec := range idx {
		versions = append(versions, string(rec.Value))
	}
	ms, err := r.models(ctx, versions)
	if err != nil {
		return nil, err
	}
	byVersion := make(map[string]*Model, len(ms))
	for _, m := range ms {
		if m.Name == name {
			byVersion[m.Version] = m
		}
	}
	out := make([]*Model, 0, len(ms))
	for _, v := range versions {
		if m := byVersion[v]; m != nil {
			out = append(out, m)
			delete(byVersion, v) // one entry per version, should two name it
		}
	}
	return out, nil
}

// addHeld adds to p every version of nr holding a stage or an alias
// that p lacks.
func (r *Registry) addHeld(ctx context.Context, p *VersionPage, nr *nameRecord) error {
	held := []string{nr.Production.Version, nr.Staging.Version}
	for _, a := range nr.Aliases {
		held = append(held, a.Version)
	}
	slices.Sort(held)
	held = slices.Compact(slices.DeleteFunc(held, func(v string) bool {
		return v == "" || slices.ContainsFunc(p.Models, func(m *Model) bool { return m.Version == v })
	}))
	ms, err := r.models(ctx, held)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Name == nr.Name {
			p.Models = append(p.Models, m)
		}
	}
	return nil
}
