package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/store"
)

// testDeleteRecords removes more records than one chunk of any backend
// (500) holds, with missing keys among them, and checks that exactly
// those go: the rest of the kind, another kind's records of the same
// keys, and a kind whose records all go leaves Kinds.
func testDeleteRecords(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	s := open()
	recs, keys := evRecords(1200, "")
	recs = append(recs, &store.Record{Kind: "ew", Key: keys[0], Value: []byte("w")}, &store.Record{Kind: "ex", Key: "only", Value: []byte("x")})
	if err := s.PutRecords(ctx, recs); err != nil {
		t.Fatal(err)
	}
	gone := append(slices.Clone(keys[100:]), "missing", keys[100]) // and one twice
	if err := s.DeleteRecords(ctx, "ev", gone); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRecords(ctx, "ev", nil); err != nil {
		t.Errorf("DeleteRecords of no keys: %v", err)
	}
	if err := s.DeleteRecords(ctx, "ex", []string{"only"}); err != nil {
		t.Fatal(err)
	}
	left, err := s.ListRecords(ctx, "ev", "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range left {
		got = append(got, r.Key)
	}
	if !slices.Equal(got, keys[:100]) {
		t.Errorf("after DeleteRecords of keys 100..1199: %d records left (%v); want keys 0..99", len(got), span(left))
	}
	if page, err := store.PageRecords(ctx, s, "ev", "", "", 5, true); err != nil || span(page) != "00099/e..00095/e (5)" {
		t.Errorf("newest page after DeleteRecords = %s, %v; want 00099/e..00095/e (5)", span(page), err)
	}
	if r, err := s.GetRecord(ctx, "ew", keys[0]); err != nil || string(r.Value) != "w" {
		t.Errorf("another kind's record of a deleted key: %v, %v; want it kept", r, err)
	}
	if kinds, err := s.Kinds(ctx); err != nil || !slices.Equal(kinds, []string{"ev", "ew"}) {
		t.Errorf("Kinds after deleting every ex record = %v, %v; want [ev ew]", kinds, err)
	}
}

// testGetRecords reads more records than one chunk of any backend (500)
// holds, in an order other than the keys', with missing keys and another
// kind's key among them: it gets exactly the kind's records that exist,
// with their values, in the order asked.
func testGetRecords(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	s := open()
	recs, keys := evRecords(1200, "v")
	recs = append(recs, &store.Record{Kind: "ew", Key: "only-ew", Value: []byte("w")})
	if err := s.PutRecords(ctx, recs); err != nil {
		t.Fatal(err)
	}
	ask := slices.Clone(keys)
	slices.Reverse(ask)
	ask = slices.Insert(ask, 700, "missing", "only-ew")
	got, err := s.GetRecords(ctx, "ev", ask)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(keys) {
		t.Fatalf("GetRecords of 1200 keys, 2 of them not ev records, gave %d records; want 1200", len(got))
	}
	for i, r := range got {
		want := keys[len(keys)-1-i]
		if r.Kind != "ev" || r.Key != want || string(r.Value) != "v"+want || r.Updated.IsZero() {
			t.Fatalf("GetRecords record %d = %s/%s %q (updated %v); want ev/%s %q with its time", i, r.Kind, r.Key, r.Value, r.Updated, want, "v"+want)
		}
	}
	if none, err := s.GetRecords(ctx, "ev", nil); err != nil || len(none) != 0 {
		t.Errorf("GetRecords of no keys = %d records, %v; want none", len(none), err)
	}
}

// evRecords returns n records of kind "ev" with keys 00000/e, 00001/e,
// ... in order, each valued its key after prefix, and their keys.
func evRecords(n int, prefix string) ([]*store.Record, []string) {
	recs := make([]*store.Record, n)
	keys := make([]string, n)
	for i := range n {
		keys[i] = fmt.Sprintf("%05d/e", i)
		recs[i] = &store.Record{Kind: "ev", Key: keys[i], Value: []byte(prefix + keys[i])}
	}
	return recs, keys
}

// testSwapRecords makes more swaps than two chunks of any backend (500)
// hold, through store.SwapRecords (one by one on a store that is no
// store.RecordSwapper), each kind of expectation met and missed, over
// records written beforehand, and checks which were refused (by their
// index in the whole call), what each record holds, and that the kind's
// list holds exactly the records there are.
func testSwapRecords(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	s := open()
	const n = 1203
	var (
		swaps    []store.RecordSwap
		present  []*store.Record
		want     = map[string]string{} // the value each record must hold; absent: none
		refusals []int
	)
	for i := range n {
		k := fmt.Sprintf("%05d", i)
		sw := store.RecordSwap{Record: store.Record{Kind: "doc", Key: k, Value: []byte("new")}}
		had := i%6 != 0 // case 0 swaps a missing record
		if had {
			present = append(present, &store.Record{Kind: "doc", Key: k, Value: []byte("x")})
		}
		ok := true
		switch i % 6 {
		case 1: // expects none, finds one
			ok = false
		case 2:
			sw.Old = []byte("x")
		case 3:
			sw.Old = []byte("y")
			ok = false
		case 4:
			sw.Old, sw.Delete = []byte("x"), true
		case 5:
			sw.Old, sw.Blind = []byte("y"), true
		}
		swaps = append(swaps, sw)
		switch {
		case !ok:
			refusals = append(refusals, i)
			if had {
				want[k] = "x"
			}
		case !sw.Delete:
			want[k] = "new"
		}
	}
	if err := s.PutRecords(ctx, present); err != nil {
		t.Fatal(err)
	}
	refused, err := store.SwapRecords(ctx, s, swaps)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(refused, refusals) {
		t.Errorf("SwapRecords refused %d swaps (first %v); want %d (first %v)", len(refused), refused[:min(6, len(refused))], len(refusals), refusals[:6])
	}
	listed, err := s.ListRecords(ctx, "doc", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != len(want) {
		t.Errorf("ListRecords after the swaps = %d records; want %d", len(listed), len(want))
	}
	for _, r := range listed {
		if string(r.Value) != want[r.Key] {
			t.Errorf("doc/%s = %q after the swaps; want %q", r.Key, r.Value, want[r.Key])
		}
	}
}
