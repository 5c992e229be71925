package meta

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShipped checks the knowledge base built into the binary: it
// decodes, stays well under 5 MB, and every dataset in it has the
// design's evaluations.
func TestShipped(t *testing.T) {
	if len(shipped) > 5<<20 {
		t.Errorf("shipped knowledge base is %d bytes; want < 5 MB", len(shipped))
	}
	s, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Datasets) == 0 {
		t.Fatal("shipped knowledge base has no datasets")
	}
	per := map[string]int{}
	for _, e := range s.Evals {
		per[e.Dataset]++
	}
	for _, d := range s.Datasets {
		if per[d.Key] < len(Design(d.Task))/2 {
			t.Errorf("%s: %d evaluations; want most of the %d design configurations", d.Name, per[d.Key], len(Design(d.Task)))
		}
	}
}

// TestSnapshotRoundTrip writes a knowledge base and reads it back
// through Records: the same datasets and evaluations, and the same bytes
// when written again.
func TestSnapshotRoundTrip(t *testing.T) {
	ctx := context.Background()
	kb := corpusKB(t)
	s, err := kb.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var a bytes.Buffer
	if err := s.Write(&a); err != nil {
		t.Fatal(err)
	}
	back, err := ReadSnapshot(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	s2, err := (&KB{Records: back.Records()}).Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := s2.Write(&b); err != nil {
		t.Fatal(err)
	}
	if len(back.Datasets) != 2 || len(back.Evals) != len(s.Evals) || !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("round trip: %d datasets, %d of %d evaluations, same bytes %v", len(back.Datasets), len(back.Evals), len(s.Evals), bytes.Equal(a.Bytes(), b.Bytes()))
	}
}

// TestLayered checks that the top layer wins and receives the writes.
func TestLayered(t *testing.T) {
	ctx := context.Background()
	top, base := newMemRecords(), newMemRecords()
	_ = base.PutRecord(ctx, KindDataset, "a", []byte("base-a"))
	_ = base.PutRecord(ctx, KindDataset, "b", []byte("base-b"))
	_ = top.PutRecord(ctx, KindDataset, "b", []byte("top-b"))
	l := Layered{Top: top, Base: base}
	if err := l.PutRecord(ctx, KindDataset, "c", []byte("top-c")); err != nil {
		t.Fatal(err)
	}
	recs, err := l.ListRecords(ctx, KindDataset, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.Key+"="+string(r.Value))
	}
	if want := "[a=base-a b=top-b c=top-c]"; fmt.Sprint(got) != want {
		t.Errorf("ListRecords = %v; want %s", got, want)
	}
	if _, err := base.GetRecord(ctx, KindDataset, "c"); !isNotFound(err) {
		t.Errorf("write reached the base layer: %v", err)
	}
}

// TestReadSnapshotFileErrors: a knowledge base file that is truncated,
// not gzip, or of another format version is an error naming the file
// (meta build --out and meta eval --kb said only "meta: snapshot:
// unexpected EOF"); a missing one is an empty knowledge base.
func TestReadSnapshotFileErrors(t *testing.T) {
	dir := t.TempDir()
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.Bytes()
	}
	whole := gz(`{"version":1,"datasets":[],"evals":[]}`)
	for _, tc := range []struct {
		name    string
		content []byte
		want    string
	}{
		{"truncated.json.gz", whole[:len(whole)/2], "unexpected EOF"},
		{"plain.json", []byte(`{"version":1}`), "gzip"},
		{"old.json.gz", gz(`{"version":0,"datasets":[]}`), "rebuild it"},
		// A newer format whose datasets this build cannot decode is
		// newer, not malformed.
		{"newer.json.gz", gz(`{"version":2,"datasets":{"by_key":{}},"evals":[]}`), "knowledge base format version 2, written by a newer tabforge"},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, tc.content, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadSnapshotFile(path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadSnapshotFile(%s) = %v; want an error naming the file and %q", tc.name, err, tc.want)
		}
	}
	if s, err := ReadSnapshotFile(filepath.Join(dir, "none.json.gz")); err != nil || len(s.Datasets) != 0 {
		t.Errorf("ReadSnapshotFile(missing) = %v, %v; want an empty knowledge base", s, err)
	}
}

// TestReadSnapshotFileToUpdate: meta build rewrites its --out through
// this build's types, so a member a newer tabforge added (at the same
// format version) would be dropped silently; reading the file to update
// it refuses such a member, at any depth, naming the file and the member,
// while reading it to use it (meta eval, import) still works.
func TestReadSnapshotFileToUpdate(t *testing.T) {
	s, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "kb.json.gz")
	if err := s.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadSnapshotFileToUpdate(path); err != nil || len(got.Datasets) != len(s.Datasets) || len(got.Evals) != len(s.Evals) {
		t.Fatalf("ReadSnapshotFileToUpdate(this build's file) = %d datasets, %d evaluations, %v; want %d, %d, nil", len(got.Datasets), len(got.Evals), err, len(s.Datasets), len(s.Evals))
	}
	plain := func() map[string]any {
		var b bytes.Buffer
		if err := s.Write(&b); err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(&b)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.NewDecoder(zr).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, tc := range []struct {
		name   string
		member string
		add    func(m map[string]any)
	}{
		{"top level", "portfolio", func(m map[string]any) { m["portfolio"] = []any{"gbdt"} }},
		{"dataset", "source_url", func(m map[string]any) {
			m["datasets"].([]any)[0].(map[string]any)["source_url"] = "https://example.org"
		}},
		{"evaluation", "energy_joules", func(m map[string]any) {
			m["evals"].([]any)[1].(map[string]any)["energy_joules"] = 3.5
		}},
	} {
		m := plain()
		tc.add(m)
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		if err := json.NewEncoder(zw).Encode(m); err != nil {
			t.Fatal(err)
		}
		zw.Close()
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadSnapshotFileToUpdate(path); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `"`+tc.member+`"`) || !strings.Contains(err.Error(), "newer") {
			t.Errorf("%s: ReadSnapshotFileToUpdate = %v; want an error naming the file, %q and a newer tabforge", tc.name, err, tc.member)
		}
		if got, err := ReadSnapshotFile(path); err != nil || len(got.Evals) != len(s.Evals) {
			t.Errorf("%s: ReadSnapshotFile = %v; want the knowledge base read without the member", tc.name, err)
		}
	}
}
