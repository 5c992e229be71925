package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/tabforge/tabforge/store"
)

// listOnly hides a store's RecordPager, so store.PageRecords pages its
// full listing: the answer every pager must give.
type listOnly struct{ store.Records }

// putPageRecords puts 30 records of kind "ev" (keys 0000/x, 0010/x, …)
// and one of kind "ew" keyed among them.
func putPageRecords(ctx context.Context, t *testing.T, s store.Store) {
	t.Helper()
	var recs []*store.Record
	for i := range 30 {
		recs = append(recs, &store.Record{Kind: "ev", Key: fmt.Sprintf("%04d/x", i*10), Value: []byte{byte(i)}})
	}
	recs = append(recs, &store.Record{Kind: "ew", Key: "0005/other kind", Value: []byte("w")})
	if err := s.PutRecords(ctx, recs); err != nil {
		t.Fatal(err)
	}
}

func testPageRecords(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	s := open()
	pager, ok := s.(store.RecordPager)
	if !ok {
		t.Fatalf("%T does not page its records (store.RecordPager)", s)
	}
	putPageRecords(ctx, t, s)
	tests := []struct {
		from, to string
		limit    int
		desc     bool
		want     string // first and last keys, and count
	}{
		{"", "", 5, true, "0290/x..0250/x (5)"},
		{"", "", 5, false, "0000/x..0040/x (5)"},
		{"", "0250/x", 3, true, "0240/x..0220/x (3)"},
		{"0100", "", 100, false, "0100/x..0290/x (20)"},
		{"0100", "0150", 100, true, "0140/x..0100/x (5)"},
		{"0100/x", "0100/x", 10, false, " (0)"},
		{"9", "", 10, true, " (0)"},
	}
	for _, tt := range tests {
		got, err := pager.PageRecords(ctx, "ev", tt.from, tt.to, tt.limit, tt.desc)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := store.PageRecords(ctx, listOnly{s}, "ev", tt.from, tt.to, tt.limit, tt.desc)
		if err != nil {
			t.Fatal(err)
		}
		if g, r := span(got), span(ref); g != tt.want || r != tt.want {
			t.Errorf("PageRecords(%q, %q, %d, desc %v) = %s, listing gives %s; want %s", tt.from, tt.to, tt.limit, tt.desc, g, r, tt.want)
		}
		for _, rec := range got {
			if rec.Kind != "ev" || len(rec.Value) != 1 || fmt.Sprintf("%04d/x", int(rec.Value[0])*10) != rec.Key {
				t.Errorf("record %s/%s has value %v", rec.Kind, rec.Key, rec.Value)
			}
		}
	}
}

// span describes a page by its first and last keys and its length.
func span(recs []*store.Record) string {
	if len(recs) == 0 {
		return " (0)"
	}
	return fmt.Sprintf("%s..%s (%d)", recs[0].Key, recs[len(recs)-1].Key, len(recs))
}

func testCountRecords(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	s := open()
	counter, ok := s.(store.RecordCounter)
	if !ok {
		t.Fatalf("%T does not count its records (store.RecordCounter)", s)
	}
	putPageRecords(ctx, t, s)
	if err := s.DeleteRecord(ctx, "ev", "0150/x"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		from, to string
		want     int
	}{
		{"", "", 29},
		{"", "0250/x", 24},
		{"0100", "", 19},
		{"0100", "0200", 9},
		{"0100/x", "0100/x", 0},
		{"0100/x\x00", "", 18},
		{"9", "", 0},
	} {
		got, err := counter.CountRecords(ctx, "ev", tt.from, tt.to)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := store.CountRecords(ctx, listOnly{s}, "ev", tt.from, tt.to)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want || ref != tt.want {
			t.Errorf("CountRecords(%q, %q) = %d, listing gives %d; want %d", tt.from, tt.to, got, ref, tt.want)
		}
	}
}
