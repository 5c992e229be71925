package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/sqlite"
	"github.com/tabforge/tabforge/store/storetest"
)

// versionsText is a page as "d3:production d2:none", by dataset.
func versionsText(ms []*Model) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, m.DatasetHash+":"+string(m.Stage)+strings.Join(m.Aliases, ","))
	}
	return strings.Join(parts, " ")
}

// TestVersions pages through one name's versions among another name's,
// newest first, with stages and aliases, by offset and from a version
// either way (Before, After), counts them, and checks that no page lists
// the model records (listCounter), that a deleted version leaves its page, and that
// Migrate rebuilds a lost index.
func TestVersions(t *testing.T) {
	t.Run("pager", func(t *testing.T) {
		st := storetest.SQLite(t)
		c := &listCounter{Swapper: st, lists: map[string]int{}}
		testVersions(t, c, pagedCounter{c, st})
	})
	t.Run("lister", func(t *testing.T) { // store.PageRecords lists the index
		c := &listCounter{Swapper: storetest.SQLite(t), lists: map[string]int{}}
		testVersions(t, c, c)
	})
}

// pagedCounter is listCounter with its store's paged and batch reads.
type pagedCounter struct {
	*listCounter
	st *sqlite.Store
}

func (p pagedCounter) PageRecords(ctx context.Context, kind, from, to string, limit int, desc bool) ([]*store.Record, error) {
	return p.st.PageRecords(ctx, kind, from, to, limit, desc)
}

func (p pagedCounter) CountRecords(ctx context.Context, kind, from, to string) (int, error) {
	return p.st.CountRecords(ctx, kind, from, to)
}

func (p pagedCounter) GetRecords(ctx context.Context, kind string, keys []string) ([]*store.Record, error) {
	return p.st.GetRecords(ctx, kind, keys)
}

func testVersions(t *testing.T, c *listCounter, rec store.Swapper) {
	ctx := context.Background()
	r := newTestRegistry(t, rec)
	v := map[string]string{}
	for i := range 7 { // d0 oldest, d6 newest; other names between them
		d := fmt.Sprint("d", i)
		v[d] = mustRegister(t, r, model(d, true))
		o := model(d, true)
		o.Name = "house-eu"
		mustRegister(t, r, o)
	}
	if _, err := r.Promote(ctx, v["d1"], Production, PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Promote(ctx, v["d2"], Production, PromoteOptions{}); err != nil { // d1 archived
		t.Fatal(err)
	}
	if _, err := r.SetAlias(ctx, "house", "champion", v["d0"], PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	clear(c.lists)
	tests := []struct {
		q    VersionQuery
		want string
		more bool
	}{
		{VersionQuery{Limit: 3}, "d6:none d5:none d4:none", true},
		{VersionQuery{Offset: 3, Limit: 3}, "d3:none d2:production d1:archived", true},
		{VersionQuery{Offset: 6, Limit: 3}, "d0:nonechampion", false},
		{VersionQuery{Offset: 4, Limit: 3}, "d2:production d1:archived d0:nonechampion", false},
		{VersionQuery{Offset: 9}, "", false},
		{VersionQuery{}, "d6:none d5:none d4:none d3:none d2:production d1:archived d0:nonechampion", false},
		{VersionQuery{Limit: 2, Held: true}, "d6:none d5:none d2:production d0:nonechampion", true},
		{VersionQuery{Before: v["d4"], Limit: 3}, "d3:none d2:production d1:archived", true},
		{VersionQuery{Before: v["d2"], Limit: 3}, "d1:archived d0:nonechampion", false},
		{VersionQuery{Before: v["d0"], Limit: 3}, "", false},
		{VersionQuery{After: v["d2"], Limit: 3}, "d5:none d4:none d3:none", true},
		{VersionQuery{After: v["d3"], Limit: 3}, "d6:none d5:none d4:none", false},
		{VersionQuery{After: v["d6"]}, "", false},
	}
	for _, tt := range tests {
		got, more, err := r.Versions(ctx, "house", tt.q)
		if err != nil {
			t.Fatal(err)
		}
		if g := versionsText(got); g != tt.want || more != tt.more {
			t.Errorf("Versions(house, %+v) = %q, more %v; want %q, more %v", tt.q, g, more, tt.want, tt.more)
		}
	}
	if m, err := r.Resolve(ctx, "house@latest"); err != nil || m.Version != v["d6"] {
		t.Errorf("Resolve(house@latest) = %v, %v; want %s", m, err, v["d6"])
	}
	if n := c.lists[KindModel]; n != 0 {
		t.Errorf("Versions or @latest listed every model record %d times; want pages of the index only", n)
	}
	if _, _, err := r.Versions(ctx, "nope", VersionQuery{}); !errors.Is(err, ErrUnknownName) {
		t.Errorf("Versions(nope) = %v; want ErrUnknownName", err)
	}
	if _, _, err := r.Versions(ctx, "house", VersionQuery{Offset: -1}); err == nil {
		t.Error("Versions with a negative offset succeeded")
	}
	for _, q := range []VersionQuery{{Offset: 1, Before: v["d3"]}, {Offset: 1, After: v["d3"]}, {Before: v["d3"], After: v["d1"]}} {
		if _, _, err := r.Versions(ctx, "house", q); err == nil {
			t.Errorf("Versions(house, %+v) succeeded; want an error (two starts)", q)
		}
	}
	eu, _, err := r.Versions(ctx, "house-eu", VersionQuery{Limit: 1})
	if err != nil || len(eu) != 1 {
		t.Fatalf("Versions(house-eu) = %d, %v", len(eu), err)
	}
	for _, q := range []VersionQuery{{Before: "0123abcd"}, {After: eu[0].Version}} {
		if _, _, err := r.Versions(ctx, "house", q); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Versions(house, %+v) = %v; want store.ErrNotFound", q, err)
		}
	}
	pos := func(d string) Position {
		t.Helper()
		m, err := r.Get(ctx, v[d])
		if err != nil {
			t.Fatal(err)
		}
		return PositionOf(m)
	}
	for _, tt := range []struct {
		name  string
		after Position
		want  int
	}{{"house", Position{}, 7}, {"house", pos("d2"), 4}, {"house", pos("d6"), 0}, {"house-eu", Position{}, 7}, {"nope", Position{}, 0}} {
		if n, err := r.CountVersions(ctx, tt.name, tt.after); err != nil || n != tt.want {
			t.Errorf("CountVersions(%s, %+v) = %d, %v; want %d", tt.name, tt.after, n, err, tt.want)
		}
	}
	if n := c.lists[KindModel]; n != 0 {
		t.Errorf("Versions or CountVersions listed every model record %d times; want the index only", n)
	}

	if err := r.Delete(ctx, v["d5"]); err != nil {
		t.Fatal(err)
	}
	if got, _, err := r.Versions(ctx, "house", VersionQuery{Limit: 2}); err != nil || versionsText(got) != "d6:none d4:none" {
		t.Errorf("after deleting d5: Versions = %q, %v; want d6 d4", versionsText(got), err)
	}

	// A store of layout 2 has no index: Migrate writes it, once.
	idx, err := c.ListRecords(ctx, KindVersions, "")
	if err != nil || len(idx) != 13 {
		t.Fatalf("index has %d entries, %v; want 13", len(idx), err)
	}
	for _, rec := range idx {
		if err := CheckRecord(rec); err != nil {
			t.Errorf("CheckRecord(%s) = %v", rec.Key, err)
		}
		if err := c.DeleteRecord(ctx, KindVersions, rec.Key); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.PutRecord(ctx, KindMeta, layoutKey, []byte(`{"version":2}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, rec); err != nil {
		t.Fatal(err)
	}
	again, err := c.ListRecords(ctx, KindVersions, "")
	if err != nil || !slices.EqualFunc(again, idx, func(a, b *store.Record) bool { return a.Key == b.Key && string(a.Value) == string(b.Value) }) {
		t.Errorf("index after Open of layout 2 has %d entries, %v; want the %d it had", len(again), err, len(idx))
	}
}

func TestCheckIndexRecord(t *testing.T) {
	for _, tt := range []struct {
		key, value string
		ok         bool
	}{
		{"house/20260101T000001.000000000Z/0123456789abcdef", "0123456789abcdef", true},
		{"house/20260101T000001.000000000Z/0123456789abcdef", "fedcba9876543210", false},
		{"house/0123456789abcdef", "0123456789abcdef", false},
		{"a@b/x/0123", "0123", false},
	} {
		err := CheckRecord(&store.Record{Kind: KindVersions, Key: tt.key, Value: []byte(tt.value)})
		if (err == nil) != tt.ok {
			t.Errorf("CheckRecord(%q = %q) = %v; want ok %v", tt.key, tt.value, err, tt.ok)
		}
	}
}

// TestLatestPassesStaleEntries: @latest is the newest version that still
// exists, even when the newest index entries name versions gone (a delete
// cut short, an undecodable record removed); Delete removes a record that
// no longer decodes.
func TestLatestPassesStaleEntries(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	r := newTestRegistry(t, st)
	v := map[string]string{}
	for i := range 12 {
		d := fmt.Sprint("d", i)
		v[d] = mustRegister(t, r, model(d, true))
	}
	// The newest ten model records vanish behind their index entries,
	// more than one page of latest's reads.
	for i := 2; i < 12; i++ {
		if err := st.DeleteRecord(ctx, KindModel, v[fmt.Sprint("d", i)]); err != nil {
			t.Fatal(err)
		}
	}
	if m, err := r.Resolve(ctx, "house@latest"); err != nil || m.Version != v["d1"] {
		t.Fatalf("Resolve(house@latest) = %v, %v; want %s, the newest left", m, err, v["d1"])
	}
	if err := st.PutRecord(ctx, KindModel, v["d1"], []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx, v["d1"]); err != nil {
		t.Fatalf("Delete of an undecodable record: %v", err)
	}
	if _, err := st.GetRecord(ctx, KindModel, v["d1"]); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the undecodable record is still there: %v", err)
	}
	if m, err := r.Resolve(ctx, "house@latest"); err != nil || m.Version != v["d0"] {
		t.Errorf("Resolve(house@latest) = %v, %v; want %s", m, err, v["d0"])
	}
}

// TestVersionsPassStaleEntries: a page whose index entries name versions
// gone (a delete cut short) reads on for the versions it lacks, at most
// maxIndexRounds pages of entries, and its Oldest leads on past those it
// read: a run of stale entries neither ends the listing nor empties a
// page that has versions after it. Pages gave no versions, and no
// older ones than the run, when the run filled them.
func TestVersionsPassStaleEntries(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	r := newTestRegistry(t, st)
	var v []string // d0 oldest
	for i := range 12 {
		v = append(v, mustRegister(t, r, model(fmt.Sprint("d", i), true)))
	}
	gone := func(from, to int) {
		for i := from; i <= to; i++ {
			if err := st.DeleteRecord(ctx, KindModel, v[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	gone(4, 9) // d4..d9: two pages of three entries
	p, err := r.VersionsPage(ctx, "house", VersionQuery{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := versionsText(p.Models); got != "d11:none d10:none d3:none" || !p.More || p.Oldest.Version != v[3] || p.Newest.Version != v[11] {
		t.Errorf("first page over d4..d9 gone = %q, more %v, newest %s, oldest %s; want d11 d10 d3, more, newest d11, oldest d3",
			got, p.More, p.Newest.Version, p.Oldest.Version)
	}
	next, err := r.VersionsPage(ctx, "house", VersionQuery{Before: p.Oldest.Version, At: p.Oldest.Created, Limit: 3})
	if err != nil || versionsText(next.Models) != "d2:none d1:none d0:none" || next.More {
		t.Errorf("the page before d3 = %q, more %v, %v; want d2 d1 d0, no more", versionsText(next.Models), next.More, err)
	}
	back, err := r.VersionsPage(ctx, "house", VersionQuery{After: next.Newest.Version, At: next.Newest.Created, Limit: 3})
	if err != nil || versionsText(back.Models) != "d11:none d10:none d3:none" || back.More {
		t.Errorf("the page after d2 = %q, more %v, %v; want d11 d10 d3, no more", versionsText(back.Models), back.More, err)
	}

	// More gone than maxIndexRounds pages of one: the page is empty but
	// leads on, and the next one finds d1.
	gone(2, 3)
	if maxIndexRounds != 8 {
		t.Fatalf("the test is written for maxIndexRounds 8 (a run of 8 stale entries d2..d9), not %d", maxIndexRounds)
	}
	p, err = r.VersionsPage(ctx, "house", VersionQuery{Before: v[10], Limit: 1})
	if err != nil || len(p.Models) != 0 || !p.More || p.Oldest.Version != v[10-maxIndexRounds] {
		t.Fatalf("one version before d10 over d2..d9 gone = %q, more %v, oldest %s, %v; want none, more, oldest d%d",
			versionsText(p.Models), p.More, p.Oldest.Version, err, 10-maxIndexRounds)
	}
	p, err = r.VersionsPage(ctx, "house", VersionQuery{Before: p.Oldest.Version, At: p.Oldest.Created, Limit: 1})
	if err != nil || versionsText(p.Models) != "d1:none" || !p.More {
		t.Errorf("the page after the empty one = %q, more %v, %v; want d1, more", versionsText(p.Models), p.More, err)
	}

	// A place stays valid once its version is deleted, index entry and
	// all; without At the version is looked up, and is gone.
	d1, err := r.Get(ctx, v[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx, v[1]); err != nil {
		t.Fatal(err)
	}
	if ms, _, err := r.Versions(ctx, "house", VersionQuery{Before: v[1], At: d1.Created}); err != nil || versionsText(ms) != "d0:none" {
		t.Errorf("versions before deleted d1's place = %q, %v; want d0", versionsText(ms), err)
	}
	if _, _, err := r.Versions(ctx, "house", VersionQuery{Before: v[1]}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("versions before deleted d1 without its place = %v; want store.ErrNotFound", err)
	}
}
