package failover_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, to add a trigger to the fallback file

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/failover"
)

// TestAdoptedFenceIsOneStep: a process holds a lease on Redis when
// redis-server is killed, and writes under it on the fallback, which
// never saw the lease. Another process sharing the fallback file claims
// the lease there at the worst moment, just before the write lands: an
// SQLite trigger on the write's table creates the other process's lease
// if there is none, as its claim (a create) would. The write must not
// land beside the other holder's lease. It used to: the fallback's lack
// of the lease was checked, and the write made without its fence, in
// two steps; now the holder's lease is created on the fallback first,
// and the write is fenced by it there in one step.
func TestAdoptedFenceIsOneStep(t *testing.T) {
	tests := []struct {
		name    string
		kind    string // the lease's
		table   string // the write's, where the trigger is
		when    string // the trigger's condition on the new row
		write   func(ctx context.Context, fs *failover.Store, f store.Fence) error
		written func(ctx context.Context, fs *failover.Store) bool
	}{
		{"run under a run lease", store.LeaseKind, "runs", "NEW.id = 'run-1'",
			func(ctx context.Context, fs *failover.Store, f store.Fence) error {
				return fs.PutRunFenced(ctx, testRun("run-1", store.Succeeded, "holder"), f)
			},
			func(ctx context.Context, fs *failover.Store) bool {
				_, err := fs.Fallback().GetRun(ctx, "run-1")
				return err == nil
			}},
		{"record under a claim", store.ClaimKind, "records", "NEW.kind = 'pub'",
			func(ctx context.Context, fs *failover.Store, f store.Fence) error {
				_, err := fs.SwapRecordFenced(ctx, "pub", "a", nil, []byte("v1"), f)
				return err
			},
			func(ctx context.Context, fs *failover.Store) bool {
				_, err := fs.Fallback().GetRecord(ctx, "pub", "a")
				return err == nil
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			srv, fs, l := claimOnRedis(t, tt.kind)
			srv.Kill()
			other := fmt.Sprintf("%s %d", time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano), l.Token+1)
			addTrigger(t, fs.Fallback().Path(), fmt.Sprintf(`CREATE TRIGGER other_claims BEFORE INSERT ON %s WHEN %s BEGIN
				INSERT INTO records (kind, key, value, updated) VALUES ('%s', 'run-1', CAST('%s' AS BLOB), 0) ON CONFLICT DO NOTHING;
			END`, tt.table, tt.when, tt.kind, other))

			err := tt.write(ctx, fs, l.Fence())
			if !fs.Down() {
				t.Fatal("the write with redis killed did not fail over")
			}
			lease, lerr := fs.Fallback().GetRecord(ctx, tt.kind, "run-1")
			if lerr != nil {
				t.Fatalf("lease on the fallback: %v", lerr)
			}
			if tok := store.LeaseToken(lease); tt.written(ctx, fs) && tok != l.Token {
				t.Errorf("written on the fallback (err %v) while the other process holds the lease (token %d, the writer's %d)", err, tok, l.Token)
			}
			if err != nil && !errors.Is(err, store.ErrLeaseLost) {
				t.Errorf("write = %v; want it made, or refused with store.ErrLeaseLost", err)
			}
		})
	}
}

// addTrigger runs a CREATE TRIGGER statement on the SQLite file path.
func addTrigger(t *testing.T, path, stmt string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(stmt); err != nil {
		t.Fatal(err)
	}
}
