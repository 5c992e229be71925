package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/store"
)

// oldRunsSchema is the runs table as stores made before runs kept their
// profile have it.
const oldRunsSchema = `CREATE TABLE runs (id TEXT PRIMARY KEY, created INTEGER NOT NULL, finished INTEGER NOT NULL DEFAULT 0,
	status TEXT NOT NULL, dataset_path TEXT NOT NULL, dataset_hash TEXT NOT NULL, config_hash TEXT NOT NULL, config TEXT NOT NULL,
	task TEXT NOT NULL, target TEXT NOT NULL, best TEXT NOT NULL DEFAULT '', model_path TEXT NOT NULL DEFAULT '',
	result TEXT NOT NULL DEFAULT '', error TEXT NOT NULL DEFAULT '');
INSERT INTO runs (id, created, status, dataset_path, dataset_hash, config_hash, config, task, target)
	VALUES ('old-run', 1, 'succeeded', 'd.csv', 'h', 'c', '{}', 'regression', 'y');`

// TestOpenAddsProfile: a store from before the profile column opens
// (twice, as two processes would), its old run reads with no profile,
// and new runs keep theirs.
func TestOpenAddsProfile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, oldRunsSchema); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for range 2 {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("open an old store: %v", err)
		}
		old, err := s.GetRun(ctx, "old-run")
		if err != nil || old.Profile != "" {
			t.Errorf("old run = %+v, %v; want it without a profile", old, err)
		}
		if err := s.PutRun(ctx, &store.Run{ID: "new-run", Created: old.Created, Status: store.Running, Profile: "production", Config: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
		page, err := s.QueryRuns(ctx, store.RunQuery{Text: "new-run"})
		if err != nil || len(page.Rows) != 1 || page.Rows[0].Profile != "production" {
			t.Errorf("QueryRuns new-run = %+v, %v; want its profile", page, err)
		}
		s.Close()
	}
}

// TestOpenAddsProfileConcurrently: processes opening one old store at the
// same moment take turns adding the column; none fails on the column the
// other added.
func TestOpenAddsProfileConcurrently(t *testing.T) {
	ctx := context.Background()
	for round := range 10 {
		path := filepath.Join(t.TempDir(), "old.db")
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, oldRunsSchema); err != nil {
			t.Fatal(err)
		}
		db.Close()
		const openers = 6
		errs := make(chan error, openers)
		start := make(chan struct{})
		for range openers {
			go func() {
				<-start
				s, err := Open(ctx, path)
				if err == nil {
					s.Close()
				}
				errs <- err
			}()
		}
		close(start)
		for range openers {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
}
