package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestJournalSeqIndexed: marking a journal entry looks the last Seq up
// through an index, not a scan of the journal, which made journalling a
// batch of n writes (a prune during an outage) read the journal n times.
func TestJournalSeqIndexed(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "tf.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ps []Pending
	for i := range 3 {
		ps = append(ps, Pending{Kind: "record", A: "k", B: fmt.Sprint(i), Target: "t"})
	}
	if err := s.MarkPending(ctx, ps...); err != nil {
		t.Fatal(err)
	}
	rows, err := s.db.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT COALESCE(MAX(seq), 0) + 1 FROM pending_writes`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if p := strings.Join(plan, "; "); !strings.Contains(p, "pending_writes_seq") {
		t.Errorf("query plan of the next Seq: %q; want it through the index pending_writes_seq", p)
	}
	got, err := s.PendingWrites(ctx)
	if err != nil || len(got) != 3 || got[0].Seq != 1 || got[2].Seq != 3 {
		t.Errorf("journal = %+v, %v; want 3 entries numbered 1..3", got, err)
	}
}
