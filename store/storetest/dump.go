package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/tune"
)

// Fill writes a bit of everything into s, for export tests.
func Fill(t testing.TB, s store.Store) {
	t.Helper()
	ctx := context.Background()
	for i := range 3 {
		r := &store.Run{ID: fmt.Sprintf("run%d", i), Created: time.Date(2026, 1, 1, 0, 0, i, 7, time.UTC), Status: store.Succeeded,
			DatasetPath: "d.csv", DatasetHash: "dh", ConfigHash: "ch", Config: json.RawMessage(`{"seed":1}`), Task: "regression",
			Target: "y", Best: "gbdt", ModelPath: "m", Result: json.RawMessage(`{"r2":0.5}`)}
		if i == 2 {
			r.Status, r.Error, r.Result, r.Finished = store.Failed, "gate", nil, r.Created.Add(time.Second)
		}
		if err := s.PutRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for _, kv := range [][3]string{{"registry", "model/a/v1", `{"stage":"production"}`}, {"dataset", "dh", "v1"}, {store.CacheKind, "k1", "cached"}} {
		if err := s.PutRecord(ctx, kv[0], kv[1], []byte(kv[2])); err != nil {
			t.Fatal(err)
		}
	}
	id, err := s.CreateStudy(ctx, "gbdt", tune.Minimize)
	if err != nil {
		t.Fatal(err)
	}
	tid, _, err := s.CreateTrial(ctx, id, tune.FrozenTrial{State: tune.Running, RetryOf: -1,
		Params: map[string]float64{"eta": 0.1}, Distributions: map[string]tune.Distribution{"eta": tune.FloatDist(0.01, 1, true)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetIntermediateValue(ctx, tid, 0, math.NaN()); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishTrial(ctx, tid, tune.Fail, math.NaN(), "nan loss"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateTrial(ctx, id, tune.FrozenTrial{State: tune.Waiting, RetryOf: 0}); err != nil {
		t.Fatal(err)
	}
}

func testExportImport(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	src := open()
	Fill(t, src)
	var first bytes.Buffer
	n, err := store.Export(ctx, src, &first, true)
	if err != nil {
		t.Fatal(err)
	}
	if n != (store.DumpCounts{Runs: 3, Records: 3, Studies: 1, Trials: 2}) {
		t.Errorf("Export counts = %+v", n)
	}
	var noCache bytes.Buffer
	if n, err := store.Export(ctx, src, &noCache, false); err != nil || n.Records != 2 {
		t.Errorf("Export without cache: %+v, %v; want 2 records", n, err)
	}
	// Importing into the same store changes nothing; a dump never
	// duplicates.
	if _, err := store.Import(ctx, src, bytes.NewReader(first.Bytes())); err != nil {
		t.Fatal(err)
	}
	var second bytes.Buffer
	if _, err := store.Export(ctx, src, &second, true); err != nil {
		t.Fatal(err)
	}
	if first.String() != second.String() {
		t.Errorf("export after re-import differs:\n%s\nvs\n%s", first.String(), second.String())
	}
	if _, err := store.Import(ctx, src, bytes.NewReader([]byte(`{"type":"run"}`))); err == nil {
		t.Error("importing a file without header succeeded")
	}
	// A dump cut off part way is refused whole: the new run before the
	// cut is not written either.
	lines := strings.SplitAfter(first.String(), "\n")
	fresh := strings.Replace(lines[1], `"id":"run`, `"id":"fresh-run`, 1)
	var l struct{ Run struct{ ID string } }
	if err := json.Unmarshal([]byte(fresh), &l); err != nil || !strings.HasPrefix(l.Run.ID, "fresh-") {
		t.Fatalf("dump line 2 is not a run: %s", lines[1])
	}
	cut := lines[0] + fresh + `{"type":"record","record":{"kind":"reg` + "\n"
	if _, err := store.Import(ctx, src, strings.NewReader(cut)); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("importing a cut dump: %v; want an error at line 3", err)
	}
	if r, err := src.GetRun(ctx, l.Run.ID); err == nil {
		t.Errorf("a cut dump wrote run %s", r.ID)
	}
	// Entities no store write makes are refused whole too: a run without
	// an id (which runs rm "" cannot remove) or one that is a path.
	for _, bad := range []string{`{"type":"run","run":{}}`, `{"type":"run","run":{"id":"../../x"}}`, `{"type":"record","record":{"key":"k"}}`} {
		if _, err := store.Import(ctx, src, strings.NewReader(lines[0]+fresh+bad+"\n")); err == nil || !strings.Contains(err.Error(), "line 3") {
			t.Errorf("importing %s: %v; want an error at line 3", bad, err)
		}
	}
	if r, err := src.GetRun(ctx, l.Run.ID); err == nil {
		t.Errorf("a dump with a bad line wrote run %s", r.ID)
	}
	testDumpEnd(t, src, lines, fresh, l.Run.ID)
}

// testDumpEnd: a dump cut short between two lines, one whose end line
// miscounts, and two dumps joined are refused whole, though every line
// is well formed; a version 1 dump, which has no end line, is read.
func testDumpEnd(t *testing.T, s store.Store, lines []string, fresh, freshID string) {
	ctx := context.Background()
	n := len(lines) - 1 // the text ends with a newline: the last element is ""
	if !strings.HasPrefix(lines[n-1], `{"type":"end"`) {
		t.Fatalf("the dump's last line is not its end line: %s", lines[n-1])
	}
	body := strings.Join(lines[1:n-1], "")
	for _, tc := range []struct{ name, dump, want string }{
		{"cut before the end line", lines[0] + fresh + body, "cut short"},
		{"cut after a run", lines[0] + fresh, "cut short"},
		{"miscounted", lines[0] + fresh + body + lines[n-1], "end line counts"},
		{"joined", lines[0] + fresh + body + `{"type":"end","counts":{"runs":4,"records":3,"studies":1,"trials":2}}` + "\n" + strings.Join(lines, ""), "after the dump's end"},
	} {
		if _, err := store.Import(ctx, s, strings.NewReader(tc.dump)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("importing a dump %s: %v; want an error saying %q", tc.name, err, tc.want)
		}
		if r, err := s.GetRun(ctx, freshID); err == nil {
			t.Fatalf("importing a dump %s wrote run %s", tc.name, r.ID)
		}
	}
	v1 := strings.Replace(lines[0], `"version":2`, `"version":1`, 1) + fresh + body
	if _, err := store.Import(ctx, s, strings.NewReader(v1)); err != nil {
		t.Errorf("importing a version 1 dump (no end line): %v", err)
	}
	if _, err := s.GetRun(ctx, freshID); err != nil {
		t.Errorf("the version 1 dump's run: %v", err)
	}
}

// ExportEqual checks that exporting a and b gives the same dump.
func ExportEqual(t testing.TB, a, b store.Store) {
	t.Helper()
	ctx := context.Background()
	var da, db bytes.Buffer
	if _, err := store.Export(ctx, a, &da, true); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Export(ctx, b, &db, true); err != nil {
		t.Fatal(err)
	}
	if da.String() != db.String() {
		t.Errorf("dumps differ:\n%s\nvs\n%s", da.String(), db.String())
	}
}
