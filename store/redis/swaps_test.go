package redis_test

import (
	"context"
	"testing"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/redis/redistest"
)

// TestSwapRecordsCache: a swapped step cache record is indexed by time
// as PutRecords indexes it, so that bounding by count (cache_max)
// finds it: with cache_max 1, the older of two swapped records goes.
func TestSwapRecordsCache(t *testing.T) {
	ctx := context.Background()
	s, err := redis.Open(ctx, redistest.URL(t)+"&cache_max=1")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, k := range []string{"old", "new"} {
		sw := store.RecordSwap{Record: store.Record{Kind: store.CacheKind, Key: k, Value: []byte(k)}}
		if refused, err := s.SwapRecords(ctx, []store.RecordSwap{sw}); err != nil || len(refused) != 0 {
			t.Fatalf("SwapRecords(cache/%s) refused %v, %v; want it made", k, refused, err)
		}
	}
	listed, err := s.ListRecords(ctx, store.CacheKind, "")
	if err != nil || len(listed) != 1 || listed[0].Key != "new" {
		t.Errorf("cache records after two swaps with cache_max 1 = %v, %v; want cache/new alone", listed, err)
	}
}
