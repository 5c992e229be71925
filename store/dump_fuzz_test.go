package store_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/storetest"
)

// FuzzImport: no dump panics Import, a dump it refuses leaves the store
// exactly as it was (Import reads and checks it whole first), and one it
// takes, imported again, changes nothing (as Import promises).
func FuzzImport(f *testing.F) {
	ctx := context.Background()
	src := storetest.SQLite(f)
	storetest.Fill(f, src)
	var dump bytes.Buffer
	if _, err := store.Export(ctx, src, &dump, true); err != nil {
		f.Fatal(err)
	}
	lines := strings.SplitAfter(dump.String(), "\n")
	f.Add(dump.Bytes())
	f.Add([]byte(lines[0] + `{"type":"run","run":{}}` + "\n"))
	f.Add([]byte(lines[0] + `{"type":"run","run":{"id":"../x"}}` + "\n"))
	f.Add([]byte(lines[0] + lines[1] + `{"type":"record","record":{"kind":"reg`))
	f.Add([]byte(`{"type":"header"}`))
	dst := storetest.SQLite(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var before bytes.Buffer
		if _, err := store.Export(ctx, dst, &before, true); err != nil {
			t.Fatal(err)
		}
		_, err := store.Import(ctx, dst, bytes.NewReader(data))
		var after bytes.Buffer
		if _, err := store.Export(ctx, dst, &after, true); err != nil {
			t.Fatal(err)
		}
		if err != nil {
			if !bytes.Equal(before.Bytes(), after.Bytes()) {
				t.Errorf("a refused dump changed the store:\n%s", data)
			}
			return
		}
		if _, err := store.Import(ctx, dst, bytes.NewReader(data)); err != nil {
			t.Fatalf("a dump imported once is refused the second time: %v\n%s", err, data)
		}
		var again bytes.Buffer
		if _, err := store.Export(ctx, dst, &again, true); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(after.Bytes(), again.Bytes()) {
			t.Errorf("importing a dump twice changed the store:\n%s", data)
		}
	})
}
