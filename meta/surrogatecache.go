package meta

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
)

// SurrogateCache keeps fitted surrogates by the hash of what they were
// fitted on (family, datasets, evaluation ids and scores), so a surrogate
// is fitted once per state of the knowledge base and again as soon as it
// grows. It is safe for concurrent use; the zero value is not usable,
// NewSurrogateCache is.
type SurrogateCache struct {
	mu sync.Mutex
	m  map[string]*Surrogate
	// order is insertion order, for eviction beyond surrogateCacheSize.
	order []string
}

// surrogateCacheSize bounds a cache: a leave-one-out evaluation fits one
// surrogate per dataset and family, a training run one per family.
const surrogateCacheSize = 512

// NewSurrogateCache returns an empty cache.
func NewSurrogateCache() *SurrogateCache { return &SurrogateCache{m: map[string]*Surrogate{}} }

// Get returns family's surrogate on datasets and evals, fitting it unless
// the cache holds one fitted on the same data; nil when too few datasets
// qualify (see FitSurrogate). A nil cache fits every time.
func (c *SurrogateCache) Get(ctx context.Context, family string, datasets []*Dataset, evals map[string][]*Eval) (*Surrogate, error) {
	if c == nil {
		return FitSurrogate(ctx, family, datasets, evals)
	}
	key := surrogateKey(family, datasets, evals)
	c.mu.Lock()
	s, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	s, err := FitSurrogate(ctx, family, datasets, evals)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; !ok {
		c.m[key] = s
		c.order = append(c.order, key)
		if len(c.order) > surrogateCacheSize {
			delete(c.m, c.order[0])
			c.order = c.order[1:]
		}
	}
	return s, nil
}

// allEvals returns every evaluation of the knowledge base by dataset key,
// in one listing.
func (kb *KB) allEvals(ctx context.Context) (map[string][]*Eval, error) {
	recs, err := kb.Records.ListRecords(ctx, KindEval, "")
	if err != nil {
		return nil, fmt.Errorf("meta: evaluations: %w", err)
	}
	out := map[string][]*Eval{}
	for _, r := range recs {
		var e Eval
		if err := json.Unmarshal(r.Value, &e); err != nil {
			return nil, fmt.Errorf("meta: evaluation %s: %w", r.Key, err)
		}
		out[e.Dataset] = append(out[e.Dataset], &e)
	}
	return out, nil
}
