package meta

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"math"
	"testing"
)

// FuzzScores feeds fold_scores JSON to Scores.UnmarshalJSON: no panic;
// what it accepts is a list with null read as NaN, and written back it
// reads to the same scores (NaN for NaN).
func FuzzScores(f *testing.F) {
	for _, s := range []string{`[0.5, null, 1e308]`, `[]`, `null`, `[null]`, `[1e400]`, `["1"]`, `{}`, `[-0, 5e-324]`, `[1,]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Scores
		if err := json.Unmarshal(b, &s); err != nil {
			return
		}
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("Scores %v read from %q do not marshal: %v", s, b, err)
		}
		var back Scores
		if err := json.Unmarshal(out, &back); err != nil || len(back) != len(s) {
			t.Fatalf("Scores %q written as %s read back as %v, %v", b, out, back, err)
		}
		for i := range s {
			if math.Float64bits(s[i]) != math.Float64bits(back[i]) && !(math.IsNaN(s[i]) && math.IsNaN(back[i])) {
				t.Fatalf("Scores %q written as %s read back as %v; want %v", b, out, back, s)
			}
		}
	})
}

// FuzzSnapshotWrite: a knowledge base file that reads (meta import, meta
// eval --kb) can be written back (meta export, meta build), and what is
// written reads to a snapshot that writes the same bytes: Write promises
// the same knowledge gives the same bytes.
func FuzzSnapshotWrite(f *testing.F) {
	for _, s := range []string{
		`{"version": 1, "datasets": [{"key": "a", "task": "regression", "features": {"values": {"n_rows": 10}}, "updated": "2026-01-02T03:04:05.678+02:00"}], "evals": [{"id": "x", "dataset": "a", "family": "gbdt", "params": {"max_depth": 3, "n": 12345678901234567890}, "score": 0.5, "fold_scores": [0.4, null]}]}`,
		`{"version": 1, "datasets": [{"key": "b", "features": {"values": {}, "seconds": {"x": 1}, "total_seconds": 3}}, {"key": "a", "features": {}}], "evals": [{"id": "2", "dataset": "a"}, {"id": "1", "dataset": "a", "run_id": "r"}]}`,
		`{"version": 1, "evals": [{"id": "x", "dataset": "a", "params": {"a": [1, {"b": null}], "c": "\u00e9"}}]}`,
		`{"version": 1, "datasets": [{"key": "a", "features": {"values": {"x": 1e308}}, "updated": "0001-01-01T00:00:00Z"}]}`,
		`{"version": 1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := ReadSnapshot(gzipped(body))
		if err != nil {
			return
		}
		var first bytes.Buffer
		if err := s.Write(&first); err != nil {
			t.Fatalf("snapshot %q reads but does not write: %v", body, err)
		}
		back, err := ReadSnapshot(bytes.NewReader(first.Bytes()))
		if err != nil {
			t.Fatalf("snapshot %q written does not read back: %v", body, err)
		}
		var second bytes.Buffer
		if err := back.Write(&second); err != nil {
			t.Fatalf("snapshot %q read back does not write: %v", body, err)
		}
		if !bytes.Equal(first.Bytes(), second.Bytes()) {
			t.Fatalf("snapshot %q writes different bytes once read back:\n%s\nthen\n%s", body, gunzip(t, first.Bytes()), gunzip(t, second.Bytes()))
		}
	})
}

func gzipped(b []byte) *bytes.Buffer {
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(b) //nolint:errcheck // a bytes.Buffer does not fail
	w.Close()
	return &gz
}

func gunzip(t *testing.T, b []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	out.ReadFrom(zr) //nolint:errcheck // for a failure message only
	return out.Bytes()
}
