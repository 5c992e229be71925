package failover_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/failover"
	"github.com/tabforge/tabforge/store/redis/redistest"
)

// TestDeleteRecordsReplay: records both stores hold (written during an
// outage and replayed) are batch-deleted during a second outage, by
// killing redis-server; after the restart one sync deletes them on Redis
// and clears the journal, so a record written again under a deleted key
// afterwards survives the next sync.
func TestDeleteRecordsReplay(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	fb := filepath.Join(t.TempDir(), "fallback.db")
	const n, del = 1200, 1100 // more than one chunk of DeleteRecords
	var recs []*store.Record
	var keys []string
	for i := range n {
		k := fmt.Sprintf("%05d/e", i)
		keys = append(keys, k)
		recs = append(recs, &store.Record{Kind: "ev", Key: k, Value: []byte(k)})
	}
	s := openOnRedis(t, srv, fb)
	srv.Kill()
	if err := s.PutRecords(ctx, recs); err != nil {
		t.Fatal(err)
	}
	s.Close()
	srv.Restart(t)
	s = openOnRedis(t, srv, fb) // replays the puts: both stores hold them
	defer s.Close()
	srv.Kill()
	if err := s.DeleteRecords(ctx, "ev", keys[:del]); err != nil {
		t.Fatal(err)
	}
	if !s.(*failover.Store).Down() {
		t.Fatal("DeleteRecords with redis killed did not fail over")
	}
	srv.Restart(t)

	s2, err := failover.Open(ctx, srv.URL(), failover.Options{Fallback: fb, Logger: quiet(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	fs := s2.(*failover.Store)
	count := func(when string, want int) {
		t.Helper()
		left, err := fs.Primary().ListRecords(ctx, "ev", "")
		if err != nil || len(left) != want {
			t.Fatalf("%s: redis holds %d records, %v; want %d", when, len(left), err, want)
		}
	}
	count("before the sync", n)
	got, err := fs.Sync(ctx)
	if err != nil || got.Records != del || len(got.Conflicts) != 0 || got.Left != 0 {
		t.Fatalf("sync = %+v, %v; want %d records deleted, no conflicts", got, err, del)
	}
	count("after the sync", n-del)
	if err := fs.Primary().PutRecord(ctx, "ev", keys[0], []byte("again")); err != nil {
		t.Fatal(err)
	}
	if again, err := fs.Sync(ctx); err != nil || again.Total() != 0 {
		t.Errorf("second sync = %+v, %v; want nothing left to replay", again, err)
	}
	count("after a second sync", n-del+1)
}
