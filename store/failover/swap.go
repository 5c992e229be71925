package failover

import (
	"bytes"
	"context"
	"errors"

	"github.com/tabforge/tabforge/store"
)

// recKey names a record.
type recKey struct{ kind, key string }

// remember notes value as what this process last wrote into kind/key on
// the primary by CreateRecord or SwapRecord.
func (s *Store) remember(kind, key string, value []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wrote == nil {
		s.wrote = make(map[recKey][]byte)
	}
	s.wrote[recKey{kind, key}] = bytes.Clone(value)
}

// forget drops what remember noted of the records kind/keys, which this
// process deleted on the primary: a lease it released there is no
// longer its own, on the fallback either (see adopt and adoptLeases).
func (s *Store) forget(kind string, keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		delete(s.wrote, recKey{kind, k})
	}
}

// adopt carries a swap over to the fallback when the fallback has no
// kind/key record and old is what this process itself last wrote there on
// the primary before it went down: a lease renewed by its holder, say.
// The fallback is not a copy of the primary, so without this a run whose
// Redis died would find its own lease "removed" and stop. The swap is
// made by creating the record on the fallback; the caller journals it with
// old as its base, so the replay applies it only where the primary still
// holds old. A record this process never wrote keeps SwapRecord's answer
// for a missing record: false.
func (s *Store) adopt(ctx context.Context, kind, key string, old, value []byte) (bool, error) {
	s.mu.Lock()
	mine, ok := s.wrote[recKey{kind, key}]
	s.mu.Unlock()
	if old == nil || !ok || !bytes.Equal(mine, old) {
		return false, nil
	}
	if _, err := s.fallback.GetRecord(ctx, kind, key); !errors.Is(err, store.ErrNotFound) {
		return false, err // present (and not old) or unreadable: the swap stands refused
	}
	return s.fallback.CreateRecord(ctx, kind, key, value)
}
