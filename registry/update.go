package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/tabforge/tabforge/store"
)

// errUnchanged, returned by a change given to updateName, leaves the
// name's record as it is.
var errUnchanged = errors.New("registry: unchanged")

// maxSwaps bounds how often updateName reads a name's record again
// because other processes keep changing it.
const maxSwaps = 100

// updateName applies change to the current record of name and writes it
// back only if nobody wrote the record since it was read
// (store.Swapper); otherwise it reads the record again and reapplies
// change. So two processes promoting, rolling back or moving aliases of
// one name at once both take effect, one after the other, and each
// decides (and writes its history event) on the state its write replaced.
// change must be safe to call more than once. An unknown name is an
// error wrapping ErrUnknownName; change returning errUnchanged writes
// nothing and updateName returns it.
func (r *Registry) updateName(ctx context.Context, name string, change func(nr *nameRecord) error) (*nameRecord, error) {
	for range maxSwaps {
		rec, err := r.rec.GetRecord(ctx, KindName, name)
		if errors.Is(err, store.ErrNotFound) {
			return nil, r.unknownName(ctx, name)
		}
		if err != nil {
			return nil, fmt.Errorf("registry: read name %q: %w", name, err)
		}
		nr, err := decodeName(rec)
		if err != nil {
			return nil, err
		}
		if err := change(nr); err != nil {
			return nil, err
		}
		b, err := json.Marshal(nr)
		if err != nil {
			return nil, fmt.Errorf("registry: encode name %q: %w", name, err)
		}
		b = keepUnknown(rec.Value, b, reflect.TypeFor[nameRecord]())
		ok, err := r.swap(ctx, KindName, name, rec.Value, b)
		if err != nil {
			return nil, fmt.Errorf("registry: save name %q: %w", name, err)
		}
		if ok {
			return nr, nil
		}
	}
	return nil, fmt.Errorf("registry: name %q: its record changed under each of %d attempts to update it; try again", name, maxSwaps)
}

// ensureName returns the record of name, creating it if it is new. Of
// processes registering a name's first versions at once, one creates it.
func (r *Registry) ensureName(ctx context.Context, name string) (*nameRecord, error) {
	nr, err := r.nameRecord(ctx, name)
	if !errors.Is(err, ErrUnknownName) {
		return nr, err
	}
	nr = &nameRecord{Name: name, Created: r.now().UTC()}
	b, err := json.Marshal(nr)
	if err != nil {
		return nil, fmt.Errorf("registry: encode name %q: %w", name, err)
	}
	created, err := r.swap(ctx, KindName, name, nil, b)
	if err != nil {
		return nil, fmt.Errorf("registry: save name %q: %w", name, err)
	}
	if !created {
		return r.nameRecord(ctx, name)
	}
	return nr, nil
}
