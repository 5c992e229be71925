package store_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/internal/formatversion"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/storetest"
)

// TestImportNewerDump: a dump whose header names a format version above
// this build's is refused as written by a newer tabforge, with nothing
// imported (it said "dump version 3 is not supported", which reads as a
// damaged file as much as a newer one).
func TestImportNewerDump(t *testing.T) {
	ctx := context.Background()
	dump := filledDump(t)
	header, rest, _ := strings.Cut(dump, "\n")
	newer := strings.Replace(header, `"version":2`, `"version":3`, 1)
	if newer == header {
		t.Fatalf("the dump's header %s has no version 2", header)
	}
	dst := storetest.SQLite(t)
	_, err := store.Import(ctx, dst, strings.NewReader(newer+"\n"+rest))
	if !errors.Is(err, formatversion.ErrNewer) || !strings.Contains(err.Error(), "store dump format version 3, written by a newer tabforge") {
		t.Fatalf("Import(version 3 dump) = %v; want an error wrapping formatversion.ErrNewer that names the store dump's version", err)
	}
	runs, err := dst.ListRuns(ctx, 0)
	if err != nil || len(runs) != 0 {
		t.Errorf("after the refused import the store holds %d runs (%v); want none", len(runs), err)
	}
}

// TestImportRecordWithoutUpdated imports a dump whose record line lost
// its updated time (found by FuzzImport, the key damaged to "u^dated"):
// the store stamped it with the time of each import, so importing the
// dump twice changed the store, which Import promises it does not. Such a
// dump, which Export never writes, is refused with nothing imported.
func TestImportRecordWithoutUpdated(t *testing.T) {
	ctx := context.Background()
	dump := `{"type":"header","format":"tabforge-store","version":2}
{"type":"record","record":{"kind":"dataset","key":"dh","value":"djE="}}
{"type":"end","counts":{"runs":0,"records":1,"studies":0,"trials":0}}
`
	dst := storetest.SQLite(t)
	_, err := store.Import(ctx, dst, strings.NewReader(dump))
	if err == nil || !strings.Contains(err.Error(), "record dataset/dh has no updated time") {
		t.Fatalf("Import(record without updated) = %v; want an error naming the record", err)
	}
	if _, err := dst.GetRecord(ctx, "dataset", "dh"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused dump's record was imported (GetRecord: %v)", err)
	}
}

// TestImportRunWithoutConfig imports a dump whose run line lost its
// config (found by FuzzImport, the key damaged): the run was imported,
// and the store then no longer exported ("export run 2: json: error
// calling MarshalJSON for type json.RawMessage"). Such a dump, which
// Export never writes, is refused with nothing imported.
func TestImportRunWithoutConfig(t *testing.T) {
	ctx := context.Background()
	dump := `{"type":"header","format":"tabforge-store","version":2}
{"type":"run","run":{"id":"r2","created":"2026-01-01T00:00:02Z","status":"failed","task":"regression","target":"y"}}
{"type":"end","counts":{"runs":1,"records":0,"studies":0,"trials":0}}
`
	dst := storetest.SQLite(t)
	if _, err := store.Import(ctx, dst, strings.NewReader(dump)); err == nil || !strings.Contains(err.Error(), "run r2 has no config") {
		t.Fatalf("Import(run without config) = %v; want an error naming the run", err)
	}
	if _, err := store.Export(ctx, dst, io.Discard, true); err != nil {
		t.Errorf("the store does not export after the refused import: %v", err)
	}
}
