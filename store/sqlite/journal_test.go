package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/store"
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

// TestJournalAtOpen: Open sets the journal up (table, seq index, base
// column), so that journal writes run no schema statement, and brings a
// journal of an older layout (no base column, no index; entries pending)
// to the current one without losing its entries.
func TestJournalAtOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(ctx, `CREATE TABLE pending_writes (target TEXT NOT NULL, kind TEXT NOT NULL, a TEXT NOT NULL, b TEXT NOT NULL,
		seq INTEGER NOT NULL, PRIMARY KEY (target, kind, a, b));
		INSERT INTO pending_writes VALUES ('t', 'run', 'r1', '', 7)`)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{path, filepath.Join(t.TempDir(), "new.db")} {
		s, err := Open(ctx, file)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var cols, idx int
		err = s.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM pragma_table_info('pending_writes') WHERE name IN ('seq', 'base')),
			(SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'pending_writes_seq')`).Scan(&cols, &idx)
		if err != nil || cols != 2 || idx != 1 {
			t.Errorf("%s just opened: journal columns seq, base: %d of 2, seq index: %d of 1, %v", filepath.Base(file), cols, idx, err)
		}
	}
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.MarkPending(ctx, Pending{Kind: "record", A: "k", B: "x", Target: "t", Base: "absent"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.PendingWrites(ctx)
	want := []Pending{{Seq: 7, Kind: "run", A: "r1", Target: "t"}, {Seq: 8, Kind: "record", A: "k", B: "x", Target: "t", Base: "absent"}}
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("journal of the old file after a mark = %+v, %v; want %+v", got, err, want)
	}
	if err := s.ClearPending(ctx, got[0]); err != nil {
		t.Fatal(err)
	}
	if got, err := s.PendingWrites(ctx); err != nil || len(got) != 1 || got[0].A != "k" {
		t.Errorf("journal after clearing the old entry = %+v, %v; want the new one alone", got, err)
	}
}

// TestJournalBatches: marks and clears of more entries than one
// statement takes keep the journal's rules: entries numbered in the
// order given, a key marked twice in one call numbered by its later
// mark, and an entry marked again after it was read left by the clear.
func TestJournalBatches(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "tf.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 2*journalChunk + 100
	key := func(i int) Pending {
		return Pending{Kind: "record", A: "ev", B: fmt.Sprintf("%04d", i), Target: "t", Base: "absent"}
	}
	var ps []Pending
	for i := range n {
		ps = append(ps, key(i))
	}
	if err := s.MarkPending(ctx, append(ps, key(5))...); err != nil {
		t.Fatal(err)
	}
	read, err := s.PendingWrites(ctx)
	if err != nil || len(read) != n {
		t.Fatalf("journal after marking %d keys, one twice: %d entries, %v; want %d", n, len(read), err, n)
	}
	for i, p := range read {
		want, seq := i, int64(i+1)
		switch {
		case i == n-1:
			want, seq = 5, n+1
		case i >= 5:
			want, seq = i+1, int64(i+2)
		}
		if p.B != key(want).B || p.Seq != seq || p.Base != "absent" {
			t.Fatalf("journal entry %d = %+v; want key %s numbered %d", i, p, key(want).B, seq)
		}
	}
	again := []Pending{key(10), key(n - 1)}
	if err := s.MarkPending(ctx, again...); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearPending(ctx, read...); err != nil {
		t.Fatal(err)
	}
	left, err := s.PendingWrites(ctx)
	if err != nil || len(left) != 2 || left[0].B != key(10).B || left[1].B != key(n-1).B || left[1].Seq != n+3 {
		t.Errorf("journal after clearing what was read = %+v, %v; want the 2 keys marked again since, numbered %d and %d", left, err, n+2, n+3)
	}
}

// BenchmarkMarkPending journals writes as a failover store on its
// fallback does: one entry per call (a run or record written during an
// outage) and a page of a history prune (2048 entries) per call.
func BenchmarkMarkPending(b *testing.B) {
	for _, n := range []int{1, 2048} {
		b.Run(fmt.Sprint("entries=", n), func(b *testing.B) {
			ctx := context.Background()
			s, err := Open(ctx, filepath.Join(b.TempDir(), "tf.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ps := make([]Pending, n)
			i := 0
			for b.Loop() {
				for j := range ps {
					ps[j] = Pending{Kind: "record", A: "registry.event", B: fmt.Sprintf("%012d", i), Target: "redis://127.0.0.1:6379/0?prefix=", Base: "absent"}
					i++
				}
				if err := s.MarkPending(ctx, ps...); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/entry")
		})
	}
}

// BenchmarkClearPending clears the journal a chunk at a time, as the
// failover replay does (500 entries per call).
func BenchmarkClearPending(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "tf.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const chunk = 500
	var ps []Pending
	cleared := 0
	for b.Loop() {
		if len(ps) == 0 {
			b.StopTimer()
			fresh := make([]Pending, 100*chunk)
			for j := range fresh {
				fresh[j] = Pending{Kind: "record", A: "registry.event", B: fmt.Sprintf("%012d", cleared+j), Target: "redis://127.0.0.1:6379/0?prefix=", Base: "absent"}
			}
			if err := s.MarkPending(ctx, fresh...); err != nil {
				b.Fatal(err)
			}
			if ps, err = s.PendingWrites(ctx); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		if err := s.ClearPending(ctx, ps[:chunk]...); err != nil {
			b.Fatal(err)
		}
		ps, cleared = ps[chunk:], cleared+chunk
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(cleared), "ns/entry")
}

// TestJournalLeaseBase: marking a key again keeps its first record base,
// but a lease base is replaced by the later acquisition's, and is read
// back as it was marked.
func TestJournalLeaseBase(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	first := LeaseBase{Fence: store.Fence{Kind: store.LeaseKind, Key: "r1", Token: 3}, Primary: true}
	later := LeaseBase{Fence: store.Fence{Kind: store.LeaseKind, Key: "r1", Token: 5}}
	marks := [][]Pending{
		{{Kind: "record", A: "k", B: "x", Target: "t", Base: "absent"}, {Kind: "run", A: "r1", Target: "t"}},
		{{Kind: "record", A: "k", B: "x", Target: "t", Base: "sha256:00"}, {Kind: "run", A: "r1", Target: "t", Base: first.String()}},
		{{Kind: "run", A: "r1", Target: "t", Base: later.String()}},
		{{Kind: "run", A: "r1", Target: "t"}}, // an unfenced write (a deletion) keeps the lease base
	}
	for _, m := range marks {
		if err := s.MarkPending(ctx, m...); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.PendingWrites(ctx)
	if err != nil || len(got) != 2 {
		t.Fatalf("journal = %+v, %v; want two entries", got, err)
	}
	if got[0].Base != "absent" {
		t.Errorf("record base after a second mark = %q; want the first, absent", got[0].Base)
	}
	if b, ok := ParseLeaseBase(got[1].Base); !ok || b != later {
		t.Errorf("run base = %q (%+v, %v); want the later acquisition's %+v", got[1].Base, b, ok, later)
	}
	if _, ok := ParseLeaseBase("sha256:00"); ok {
		t.Error("a record base parses as a lease base")
	}
}
