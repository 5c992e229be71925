package housekeeping

import (
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
)

// TestCollectPrunesCache: on SQLite, whose step cache has no bound of its
// own, gc removes the cache records last written before the runs it
// removes (both rules must agree, and a running run's records stay); runs
// rm removes none, and a dry run counts the same records and removes
// nothing. Before, gc never touched the cache, which grew by every run's
// fitted candidates forever.
func TestCollectPrunesCache(t *testing.T) {
	now := time.Now()
	day := 24 * time.Hour
	written := map[string]time.Duration{"c40": 40 * day, "c25": 25 * day, "c15": 15 * day, "c5": 5 * day} // key → age
	tests := []struct {
		name    string
		p       Policy
		running bool // a run created 28 days ago is still running
		want    []string
	}{
		{"older than 12 days", Policy{OlderThan: 12 * day}, false, []string{"c5"}},
		{"keep last 2 (the 2nd newest run is 20 days old)", Policy{KeepLast: 2}, false, []string{"c15", "c5"}},
		{"both rules", Policy{KeepLast: 1, OlderThan: 22 * day}, false, []string{"c15", "c5"}},
		{"a running run keeps what it may read", Policy{OlderThan: 12 * day}, true, []string{"c25", "c15", "c5"}},
		{"fewer runs than keep last", Policy{KeepLast: 10}, false, []string{"c40", "c25", "c15", "c5"}},
		{"runs rm", Policy{Runs: []string{"r1"}}, false, []string{"c40", "c25", "c15", "c5"}},
		{"dry run", Policy{OlderThan: 12 * day, DryRun: true}, false, []string{"c40", "c25", "c15", "c5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, st, env := openEnv(t)
			for id, age := range map[string]time.Duration{"r1": 30 * day, "r2": 20 * day, "r3": 10 * day} {
				if err := st.PutRun(ctx, &store.Run{ID: id, Created: now.Add(-age), Finished: now.Add(-age), Status: store.Succeeded}); err != nil {
					t.Fatal(err)
				}
			}
			if tt.running {
				if err := st.PutRun(ctx, &store.Run{ID: "r0", Created: now.Add(-28 * day), Status: store.Running}); err != nil {
					t.Fatal(err)
				}
				if err := st.PutRecord(ctx, store.LeaseKind, "r0", []byte(now.Add(time.Hour).Format(time.RFC3339Nano))); err != nil {
					t.Fatal(err)
				}
			}
			var recs []*store.Record
			for key, age := range written {
				recs = append(recs, &store.Record{Kind: store.CacheKind, Key: key, Value: []byte("fitted " + key), Updated: now.Add(-age)})
			}
			if err := st.PutRecords(ctx, recs); err != nil {
				t.Fatal(err)
			}
			tt.p.Now = now
			rep, err := Collect(ctx, env, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			left, err := st.ListRecords(ctx, store.CacheKind, "")
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, r := range left {
				keys = append(keys, r.Key)
			}
			if !sameSet(keys, tt.want) {
				t.Errorf("cache records left %v; want %v", keys, tt.want)
			}
			wantGone := len(written) - len(tt.want)
			if tt.p.DryRun {
				wantGone = 3 // what the same policy without --dry-run removes
			}
			if rep.CacheRecords != wantGone || rep.CacheBytes != int64(wantGone*len("fitted c40")) {
				t.Errorf("report: %d cache records, %d bytes; want %d records of %d bytes each", rep.CacheRecords, rep.CacheBytes, wantGone, len("fitted c40"))
			}
		})
	}
}
