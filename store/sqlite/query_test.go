package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/store"
)

// TestQueryRunsTextBytes: the runs page's search compares bytes (ASCII
// case folded), as store.RunQuery.Matches does, whatever UTF-8 the text
// or a run's fields hold or fail to hold.
func TestQueryRunsTextBytes(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The target FuzzQueryRuns found (testdata/fuzz/FuzzQueryRuns/71cd34c11834cd9f):
	// a continuation byte after an ASCII one.
	if err := s.PutRun(ctx, queryRun("aa11", 1, "data/x.csv", "0\aQql\x8d@\xb01", "gbdt", 0.5)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRun(ctx, queryRun("bb22", 2, "data/Éte.csv", "y", "ridge", 0.5)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		text string
		want int
	}{
		{"\xb0", 1},       // starts with a continuation byte: SQLite's text instr skipped it
		{"@\xb01", 1},     // the same bytes found from an ASCII start
		{"\x8d@", 1},      // a lone continuation byte, then ASCII
		{"\x89te.csv", 1}, // the second byte of É (C3 89) on
		{"ÉTE", 1},        // É is not ASCII: kept as is, "TE" folded
		{"éte", 0},        // no Unicode folding
		{"\xb1", 0},
	} {
		page, err := s.QueryRuns(ctx, store.RunQuery{Text: tc.text})
		if err != nil {
			t.Fatalf("QueryRuns(%q): %v", tc.text, err)
		}
		if page.Total != tc.want {
			t.Errorf("QueryRuns(%q) found %d runs; want %d", tc.text, page.Total, tc.want)
		}
	}
}
