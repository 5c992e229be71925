package meta

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tabforge/tabforge/store"
)

// memRecords is a store.Records in memory, safe for concurrent use: the
// shipped knowledge base once decoded, and the working copy of a build.
type memRecords struct {
	mu   sync.RWMutex
	recs map[string]*store.Record // by kind + "\x00" + key
}

func newMemRecords() *memRecords { return &memRecords{recs: map[string]*store.Record{}} }

var _ store.Records = (*memRecords)(nil)

func (m *memRecords) PutRecord(_ context.Context, kind, key string, value []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs[kind+"\x00"+key] = &store.Record{Kind: kind, Key: key, Value: append([]byte(nil), value...), Updated: time.Now().UTC()}
	return nil
}

func (m *memRecords) GetRecord(_ context.Context, kind, key string) (*store.Record, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.recs[kind+"\x00"+key]
	if !ok {
		return nil, fmt.Errorf("meta: %s %s: %w", kind, key, store.ErrNotFound)
	}
	c := *r
	return &c, nil
}

func (m *memRecords) ListRecords(_ context.Context, kind, prefix string) ([]*store.Record, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []*store.Record
	for _, r := range m.recs {
		if r.Kind == kind && strings.HasPrefix(r.Key, prefix) {
			c := *r
			out = append(out, &c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (m *memRecords) DeleteRecord(_ context.Context, kind, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.recs, kind+"\x00"+key)
	return nil
}

// Layered is a store.Records that reads from Top and then Base, Top
// winning for a key both hold, and writes to Top only: the user's store
// over the shipped knowledge base, so a user's own runs add to (and on
// the same dataset override) what tabforge ships.
type Layered struct {
	Top, Base store.Records
}

var _ store.Records = Layered{}

// PutRecord implements store.Records; it writes to Top.
func (l Layered) PutRecord(ctx context.Context, kind, key string, value []byte) error {
	return l.Top.PutRecord(ctx, kind, key, value)
}

// GetRecord implements store.Records.
func (l Layered) GetRecord(ctx context.Context, kind, key string) (*store.Record, error) {
	r, err := l.Top.GetRecord(ctx, kind, key)
	if err == nil || !isNotFound(err) {
		return r, err
	}
	return l.Base.GetRecord(ctx, kind, key)
}

// ListRecords implements store.Records.
func (l Layered) ListRecords(ctx context.Context, kind, prefix string) ([]*store.Record, error) {
	top, err := l.Top.ListRecords(ctx, kind, prefix)
	if err != nil {
		return nil, err
	}
	base, err := l.Base.ListRecords(ctx, kind, prefix)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(top))
	for _, r := range top {
		seen[r.Key] = true
	}
	out := top
	for _, r := range base {
		if !seen[r.Key] {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// DeleteRecord implements store.Records; it deletes from Top only.
func (l Layered) DeleteRecord(ctx context.Context, kind, key string) error {
	return l.Top.DeleteRecord(ctx, kind, key)
}

// hiding is a store.Records without the records whose keys hide
// reports (of any kind). Writes pass through.
type hiding struct {
	store.Records
	hide func(key string) bool
}

// withoutDataset hides one dataset's records: its dataset record (key)
// and its evaluations (key + "/...").
func withoutDataset(r store.Records, key string) hiding {
	return hiding{r, func(k string) bool { return k == key || strings.HasPrefix(k, key+"/") }}
}

// withoutKeys hides the records of keys.
func withoutKeys(r store.Records, keys map[string]bool) hiding {
	return hiding{r, func(k string) bool { return keys[k] }}
}

func (h hiding) GetRecord(ctx context.Context, kind, key string) (*store.Record, error) {
	if h.hide(key) {
		return nil, fmt.Errorf("meta: %s %s: %w", kind, key, store.ErrNotFound)
	}
	return h.Records.GetRecord(ctx, kind, key)
}

func (h hiding) ListRecords(ctx context.Context, kind, prefix string) ([]*store.Record, error) {
	recs, err := h.Records.ListRecords(ctx, kind, prefix)
	if err != nil {
		return nil, err
	}
	out := recs[:0:0]
	for _, r := range recs {
		if !h.hide(r.Key) {
			out = append(out, r)
		}
	}
	return out, nil
}
