// Package cache memoises pipeline steps in a store's record space. A
// step's key is the hash of everything that determines its result (the
// dataset hash, the step's config, the step's code version), so changing
// any of them misses, and nothing else does. Values are opaque bytes the
// step encodes. The cache is fail-safe: a store that cannot be read or
// written, or a record that is not what was written (truncated, altered,
// or from before records were checksummed), costs a recomputation and a
// warning, never the step; a record found damaged is written afresh.
package cache

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/zeebo/blake3"

	"github.com/tabforge/tabforge/store"
)

// Key returns the hex BLAKE3-256 hash of the JSON encoding of parts, as
// one array, so ("ab", "c") and ("a", "bc") differ. encoding/json sorts
// map keys, so equal values give equal keys. Key panics if a part cannot
// be encoded as JSON (a channel, a function, a NaN float): keys are built
// from config structs and hashes, so that is a programming error.
func Key(parts ...any) string {
	b, err := json.Marshal(parts)
	if err != nil {
		panic(fmt.Sprintf("cache: key parts cannot be encoded: %v", err))
	}
	sum := blake3.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Stats counts a Cache's lookups.
type Stats struct {
	Hits   int64 `json:"hits"`
	Misses int64 `json:"misses"`
	// Errors counts store reads and writes that failed, and records read
	// that failed their checksum (each also counted as a miss, or after a
	// miss, as a failed write).
	Errors int64 `json:"errors"`
}

// HitRate is Hits / (Hits + Misses), or 0 before any lookup.
func (s Stats) HitRate() float64 {
	if s.Hits+s.Misses == 0 {
		return 0
	}
	return float64(s.Hits) / float64(s.Hits+s.Misses)
}

// Cache memoises computations in records of kind store.CacheKind. Make
// one per run to count that run's hits and misses. It is safe for
// concurrent use; two goroutines asking for the same missing key both
// compute it (the results are equal, and the second write replaces the
// first).
type Cache struct {
	records                store.Records
	log                    *slog.Logger
	hits, misses, failures atomic.Int64
}

// New returns a cache on r; a nil log means slog.Default(). A nil r gives
// a cache that always computes (and counts misses), for runs without a
// store.
func New(r store.Records, log *slog.Logger) *Cache {
	if log == nil {
		log = slog.Default()
	}
	return &Cache{records: r, log: log}
}

// writeTimeout bounds a cache write, which is not bound by the caller's
// context.
const writeTimeout = 10 * time.Second

// Do returns the value cached under key, or computes, stores and returns
// it. hit reports whether it came from the cache. The error is compute's,
// or ctx's when ctx ended before the lookup answered: failures to read or
// write the store are logged and counted in Stats, and the value is
// computed instead. A record that fails its checksum is a miss and an
// error in Stats, and is replaced by the value computed. A value compute
// fails to produce is not cached.
func (c *Cache) Do(ctx context.Context, key string, compute func(ctx context.Context) ([]byte, error)) (value []byte, hit bool, err error) {
	if c.records != nil {
		r, err := c.records.GetRecord(ctx, store.CacheKind, key)
		var ok bool
		if err == nil {
			if value, ok = unframe(r.Value); ok {
				c.hits.Add(1)
				return value, true, nil
			}
		}
		switch {
		case err == nil && !ok:
			c.failures.Add(1)
			c.log.Warn("cache: record fails its checksum; computing it afresh", "key", key, "bytes", len(r.Value))
		case ctx.Err() != nil:
			// The caller gave up (a pruned trial's other folds, Ctrl-C):
			// no store failure, and nothing left to compute for.
			return nil, false, ctx.Err()
		case !errors.Is(err, store.ErrNotFound):
			c.failures.Add(1)
			c.log.Warn("cache: read failed; computing instead", "key", key, "err", err)
		}
	}
	c.misses.Add(1)
	value, err = compute(ctx)
	if err != nil {
		return nil, false, err
	}
	if c.records != nil {
		// A computed value is worth keeping even when ctx ended meanwhile
		// (a tuning deadline passed while the last fold ran), so the write
		// gets its own bounded context.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
		defer cancel()
		if err := c.records.PutRecord(wctx, store.CacheKind, key, frame(value)); err != nil {
			c.failures.Add(1)
			c.log.Warn("cache: write failed; the result is not cached", "key", key, "err", err)
		}
	}
	return value, false, nil
}

// Get returns the value cached under key without computing one: ok is
// false when there is none, when it fails its checksum or when the store
// cannot be read. It counts in no Stats: it serves a value another
// cached value refers to, whose own lookup counted.
func (c *Cache) Get(ctx context.Context, key string) (value []byte, ok bool) {
	if c.records == nil {
		return nil, false
	}
	r, err := c.records.GetRecord(ctx, store.CacheKind, key)
	if err != nil {
		return nil, false
	}
	return unframe(r.Value)
}

// A record is frameMagic, then sumSize bytes of the BLAKE3 hash of the
// value, then the value: the store keeps what it is given, and a value
// that decodes after damage (a truncated PNG, a gob cut at a field
// boundary) would otherwise be served as a hit, run after run.
const (
	frameMagic = "tfc1"
	sumSize    = 16
)

func frame(value []byte) []byte {
	sum := blake3.Sum256(value)
	b := make([]byte, 0, len(frameMagic)+sumSize+len(value))
	b = append(append(append(b, frameMagic...), sum[:sumSize]...), value...)
	return b
}

// unframe returns the value of a record and whether it is intact.
func unframe(b []byte) ([]byte, bool) {
	head := len(frameMagic) + sumSize
	if len(b) < head || string(b[:len(frameMagic)]) != frameMagic {
		return nil, false
	}
	value := b[head:]
	sum := blake3.Sum256(value)
	return value, bytes.Equal(sum[:sumSize], b[len(frameMagic):head])
}

// Sibling returns a cache on the same records with counters of its own,
// for lookups that should not count in c's Stats.
func (c *Cache) Sibling() *Cache { return &Cache{records: c.records, log: c.log} }

// Stats returns the counts so far.
func (c *Cache) Stats() Stats {
	return Stats{Hits: c.hits.Load(), Misses: c.misses.Load(), Errors: c.failures.Load()}
}
