package redis_test

import (
	"context"
	"testing"

	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/redis/redistest"
)

// TestEpoch: the epoch is the same for every call and every client of
// one data set, and another once the data set is gone (FLUSHALL).
func TestEpoch(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	a, err := redis.Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := redis.Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	first, err := a.Epoch(ctx)
	if err != nil || first == "" {
		t.Fatalf("Epoch = %q, %v; want a marker", first, err)
	}
	if again, err := b.Epoch(ctx); err != nil || again != first {
		t.Errorf("Epoch from another client = %q, %v; want %q", again, err, first)
	}
	if _, err := a.Do(ctx, "FLUSHALL"); err != nil {
		t.Fatal(err)
	}
	if after, err := b.Epoch(ctx); err != nil || after == first || after == "" {
		t.Errorf("Epoch after FLUSHALL = %q, %v; want a new marker, not %q", after, err, first)
	}
}
