package registry

import (
	"context"
	"slices"

	"github.com/tabforge/tabforge/store"
)

// Fenced returns a registry on r's store whose writes of versions, names,
// summaries and history take effect only while the lease f names still
// holds f.Token, as well as every lease r is fenced by: a process that
// publishes under a lease (a run's, a watcher's claim on a data version)
// and stalled past it while a successor took over writes nothing, and
// the call fails with an error wrapping a *store.LostError. On a store
// that is a store.FencedSwapper each write and the test of its leases
// are one atomic step; on another the leases are read just before.
// Deletions (Delete, Prune) and Migrate are not fenced.
func (r *Registry) Fenced(f store.Fence) *Registry {
	c := *r
	c.fences = append(slices.Clip(r.fences), f)
	return &c
}

// swap is r.rec's SwapRecord under r's fences.
func (r *Registry) swap(ctx context.Context, kind, key string, old, value []byte) (bool, error) {
	if len(r.fences) == 0 {
		return r.rec.SwapRecord(ctx, kind, key, old, value)
	}
	return store.SwapRecordFenced(ctx, r.rec, kind, key, old, value, r.fences...)
}

// putRecord is r.rec's PutRecord under r's fences.
func (r *Registry) putRecord(ctx context.Context, kind, key string, value []byte) error {
	if len(r.fences) == 0 {
		return r.rec.PutRecord(ctx, kind, key, value)
	}
	return store.PutRecordFenced(ctx, r.rec, kind, key, value, r.fences...)
}
