package failover_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/failover"
	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/redis/redistest"
	"github.com/tabforge/tabforge/store/sqlite"
)

// countingStore is a real store that counts the record reads made on it.
type countingStore struct {
	store.Store
	get, gets int
}

func (c *countingStore) GetRecord(ctx context.Context, kind, key string) (*store.Record, error) {
	c.get++
	return c.Store.GetRecord(ctx, kind, key)
}

func (c *countingStore) GetRecords(ctx context.Context, kind string, keys []string) ([]*store.Record, error) {
	c.gets++
	return c.Store.GetRecords(ctx, kind, keys)
}

// TestReplayReadsInBatches: replaying records written during an outage
// reads the primary's values (to check each against the state the
// fallback's write was made on) in one batch per chunk of the journal,
// not one read per record, and still keeps the primary's value of a
// record it holds in another state.
func TestReplayReadsInBatches(t *testing.T) {
	ctx := context.Background()
	fb := filepath.Join(t.TempDir(), "fallback.db")
	down, err := failover.Open(ctx, deadURL(t), failover.Options{Fallback: fb, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	const n = 1200 // more than two chunks of the replay
	var recs []*store.Record
	for i := range n {
		k := fmt.Sprintf("%05d/e", i)
		recs = append(recs, &store.Record{Kind: "ev", Key: k, Value: []byte("fallback " + k)})
	}
	if err := down.PutRecords(ctx, recs); err != nil {
		t.Fatal(err)
	}
	down.Close()

	primary, err := redis.Open(ctx, redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer primary.Close()
	// Written on Redis during the outage, over the state ("absent") the
	// fallback's write of the same key was made on: Redis's value stays.
	if err := primary.PutRecord(ctx, "ev", recs[700].Key, []byte("redis")); err != nil {
		t.Fatal(err)
	}
	fallback, err := sqlite.Open(ctx, fb)
	if err != nil {
		t.Fatal(err)
	}
	defer fallback.Close()
	c := &countingStore{Store: primary}
	got, err := failover.Replay(ctx, fallback, c)
	if err != nil || got.Records != n-1 || len(got.Conflicts) != 1 || got.Conflicts[0] != "ev/"+recs[700].Key {
		t.Fatalf("replay = %+v, %v; want %d records copied and ev/%s kept as a conflict", got, err, n-1, recs[700].Key)
	}
	if chunks := (n + 499) / 500; c.get != 0 || c.gets > chunks {
		t.Errorf("replay of %d records read the primary with %d GetRecord and %d GetRecords calls; want none and at most %d", n, c.get, c.gets, chunks)
	}
	if r, err := primary.GetRecord(ctx, "ev", recs[700].Key); err != nil || string(r.Value) != "redis" {
		t.Errorf("conflicting record on redis = %v, %v; want redis's value kept", r, err)
	}
	if r, err := primary.GetRecord(ctx, "ev", recs[n-1].Key); err != nil || string(r.Value) != string(recs[n-1].Value) {
		t.Errorf("replayed record on redis = %v, %v; want the fallback's value", r, err)
	}
}
