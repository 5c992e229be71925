package storetest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/tabforge/tabforge/store"
)

// testSnapshot exports while a second handle keeps doing what the
// registry does when a run registers a version and promotes it: write
// the version's record, then point a name's record at it. The version's
// kind sorts before the name's, so an export that lists one kind and then
// the other, rather than one moment of the store, catches the name
// pointing at a version written after the versions were listed. Many
// versions make that listing long enough for the writer to land in it.
func testSnapshot(t *testing.T, open func() store.Store) {
	const (
		kindVersion = "snap.model"
		kindName    = "snap.name"
		start       = 2000
		exports     = 8
	)
	ctx := context.Background()
	reader, writer := open(), open()
	recs := make([]*store.Record, 0, start+1)
	for i := range start {
		recs = append(recs, &store.Record{Kind: kindVersion, Key: fmt.Sprintf("v%06d", i), Value: bytes.Repeat([]byte("m"), 200)})
	}
	recs = append(recs, &store.Record{Kind: kindName, Key: "churn", Value: []byte("v000000")})
	if err := writer.PutRecords(ctx, recs); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	var (
		wg      sync.WaitGroup
		werr    error
		written int
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := start; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			v := fmt.Sprintf("v%06d", i)
			if werr = writer.PutRecord(ctx, kindVersion, v, []byte("m")); werr != nil {
				return
			}
			if werr = writer.PutRecord(ctx, kindName, "churn", []byte(v)); werr != nil {
				return
			}
			written++
		}
	}()
	var bad []string
	for i := range exports {
		var dump bytes.Buffer
		if _, err := store.Export(ctx, reader, &dump, false); err != nil {
			close(stop)
			wg.Wait()
			t.Fatalf("export %d: %v", i, err)
		}
		if err := danglingNames(dump.Bytes(), kindVersion, kindName); err != nil {
			bad = append(bad, fmt.Sprintf("export %d: %v", i, err))
		}
	}
	close(stop)
	wg.Wait()
	if werr != nil {
		t.Fatal(werr)
	}
	if written < exports {
		t.Fatalf("the writer promoted %d versions during %d exports; the test needs it to write throughout", written, exports)
	}
	if len(bad) > 0 {
		t.Errorf("%d of %d exports taken while another handle wrote are not one state of the store:\n%s", len(bad), exports, bad)
	}
}

// danglingNames reports a name record of a dump whose value is no version
// record of the same dump.
func danglingNames(dump []byte, kindVersion, kindName string) error {
	versions := map[string]bool{}
	names := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(dump))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var l struct {
			Record *store.Record `json:"record"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return err
		}
		switch {
		case l.Record == nil:
		case l.Record.Kind == kindVersion:
			versions[l.Record.Key] = true
		case l.Record.Kind == kindName:
			names[l.Record.Key] = string(l.Record.Value)
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("no %s record in the dump", kindName)
	}
	for name, v := range names {
		if !versions[v] {
			return fmt.Errorf("%s %q points at %s, which the dump's %d %s records do not hold", kindName, name, v, len(versions), kindVersion)
		}
	}
	return sc.Err()
}
