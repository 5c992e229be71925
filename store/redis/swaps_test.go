package redis_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/redis/redistest"
)

// TestSwapRecords makes more than two scripts' worth of swaps, each
// kind of expectation met and missed, over records written beforehand,
// and checks which were refused (by their index in the whole call),
// what each record holds, and that the key index lists exactly the
// records there are.
func TestSwapRecords(t *testing.T) {
	ctx := context.Background()
	s, err := redis.Open(ctx, redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 1203 // past two chunks of the script
	var (
		swaps    []store.RecordSwap
		present  []*store.Record
		want     = map[string]string{} // the value each record must hold; absent: none
		refusals []int
	)
	for i := range n {
		k := fmt.Sprintf("%05d", i)
		sw := store.RecordSwap{Record: store.Record{Kind: "doc", Key: k, Value: []byte("new")}}
		had := i%6 != 0 // case 0 swaps a missing record
		if had {
			present = append(present, &store.Record{Kind: "doc", Key: k, Value: []byte("x")})
		}
		ok := true
		switch i % 6 {
		case 1: // expects none, finds one
			ok = false
		case 2:
			sw.Old = []byte("x")
		case 3:
			sw.Old = []byte("y")
			ok = false
		case 4:
			sw.Old, sw.Delete = []byte("x"), true
		case 5:
			sw.Old, sw.Blind = []byte("y"), true
		}
		swaps = append(swaps, sw)
		switch {
		case !ok:
			refusals = append(refusals, i)
			if had {
				want[k] = "x"
			}
		case !sw.Delete:
			want[k] = "new"
		}
	}
	if err := s.PutRecords(ctx, present); err != nil {
		t.Fatal(err)
	}
	refused, err := s.SwapRecords(ctx, swaps)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(refused, refusals) {
		t.Errorf("SwapRecords refused %d swaps (first %v); want %d (first %v)", len(refused), refused[:min(6, len(refused))], len(refusals), refusals[:6])
	}
	listed, err := s.ListRecords(ctx, "doc", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != len(want) {
		t.Errorf("ListRecords after the swaps = %d records; want %d", len(listed), len(want))
	}
	for _, r := range listed {
		if string(r.Value) != want[r.Key] {
			t.Errorf("doc/%s = %q after the swaps; want %q", r.Key, r.Value, want[r.Key])
		}
	}
}

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
