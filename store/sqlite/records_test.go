package sqlite

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/store"
)

func TestRecords(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	for _, kv := range [][2]string{{"b/2", "two"}, {"a/1", "one"}, {"b/1", "uno"}, {"b_1", "underscore"}} {
		if err := s.PutRecord(ctx, "k", kv[0], []byte(kv[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutRecord(ctx, "k", "b/1", []byte("one again")); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListRecords(ctx, "k", "b/")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Key != "b/1" || string(got[0].Value) != "one again" || got[1].Key != "b/2" {
		t.Errorf("ListRecords(b/) = %v; want b/1=one again, b/2=two", got)
	}
	r, err := s.GetRecord(ctx, "k", "a/1")
	if err != nil || string(r.Value) != "one" || r.Updated.IsZero() {
		t.Errorf("GetRecord(a/1) = %v, %v; want one", r, err)
	}
	if err := s.DeleteRecord(ctx, "k", "a/1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetRecord(ctx, "k", "a/1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetRecord after delete err = %v; want ErrNotFound", err)
	}
	if _, err := s.GetRecord(ctx, "other", "b/2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("kinds are not separate: err = %v", err)
	}
}

// TestListRecordsPrefixNotUTF8 lists records and gets a run by a prefix
// that is not UTF-8: GLOB reads its pattern as UTF-8, and such a prefix
// matched keys it is not a prefix of, so `models show 1\xbf...` showed
// version 2108... (found by FuzzResolve).
func TestListRecordsPrefixNotUTF8(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	for _, k := range []string{"2108b8d8b62b274f", "1abc", "\xbf"} {
		if err := s.PutRecord(ctx, "k", k, []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutRun(ctx, &store.Run{ID: "2108b8d8b62b274f", Status: store.Succeeded}); err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"1\xbf\xbf\xbf\xbf\xbf\xbf\xbf", "2\xbf", "\xbf", "\xff", "21\xc3"} {
		recs, err := s.ListRecords(ctx, "k", prefix)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if !strings.HasPrefix(r.Key, prefix) {
				t.Errorf("ListRecords(%q) lists %q", prefix, r.Key)
			}
		}
		if want := prefix == "\xbf"; want != (len(recs) == 1) {
			t.Errorf("ListRecords(%q) = %d records; want the key %q", prefix, len(recs), "\xbf")
		}
		if r, err := s.GetRun(ctx, prefix); err == nil {
			t.Errorf("GetRun(%q) = run %q", prefix, r.ID)
		}
	}
}
