package meta

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"slices"
	"testing"
)

// FuzzSnapshot: a knowledge base file a user imports (meta import, meta
// eval --kb) is untrusted. Whatever JSON it holds, reading it never
// panics, and a snapshot that reads is one Advise can rank neighbours
// and configurations from for a real table without panicking: features
// of another length, NaN or infinite values, evaluations of datasets it
// does not know. The advice is one meta show --json prints and a run's
// report keeps: it encodes as JSON (no NaN or infinite distance or
// threshold), its neighbours nearest first.
func FuzzSnapshot(f *testing.F) {
	shipped, err := Shipped()
	if err != nil {
		f.Fatal(err)
	}
	// A small seed: the fuzzer minimises every input it finds interesting,
	// which takes long on kilobytes of JSON.
	small := &Snapshot{Version: shipped.Version, Datasets: shipped.Datasets[:2]}
	for _, e := range shipped.Evals {
		if e.Dataset == small.Datasets[0].Key && len(small.Evals) < 2 {
			small.Evals = append(small.Evals, e)
		}
	}
	seed, err := json.Marshal(small)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"version": 1, "datasets": [{"key": "a", "task": "regression", "features": {}}], "evals": [{"id": "x", "dataset": "b"}]}`))
	f.Add([]byte(`{"version": 1, "datasets": [{"key": "a", "task": "regression", "features": {"values": [1e308, -1e308]}}]}`))
	// Five comparable datasets (a spread is measured) whose shares differ
	// by more than a float holds.
	f.Add([]byte(`{"version": 1, "datasets": [` +
		`{"key": "a", "task": "regression", "features": {"task": "regression", "values": {"numeric_share": -1e308}}},` +
		`{"key": "b", "task": "regression", "features": {"task": "regression", "values": {"numeric_share": -1e308}}},` +
		`{"key": "c", "task": "regression", "features": {"task": "regression", "values": {"numeric_share": 1e308}}},` +
		`{"key": "d", "task": "regression", "features": {"task": "regression", "values": {"numeric_share": 1e308}}},` +
		`{"key": "e", "task": "regression", "features": {"task": "regression", "values": {"numeric_share": 0.5, "rows": 1e308}}}],` +
		`"evals": [{"id": "x", "dataset": "e", "score": 1}]}`))
	f.Add([]byte(`{"version": 1, "datasets": [null], "evals": []}`))
	f.Add([]byte(`{"version": 1, "datasets": [], "evals": [null]}`))
	ctx := context.Background()
	feats, err := Compute(ctx, loadTable(f, "corpus/ggplot2_mpg.csv", "hwy"), Options{LandmarkRows: 300})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var gz bytes.Buffer
		w := gzip.NewWriter(&gz)
		w.Write(body) //nolint:errcheck // a bytes.Buffer does not fail
		w.Close()
		s, err := ReadSnapshot(&gz)
		if err != nil {
			return
		}
		kb := &KB{Records: s.Records()}
		adv, err := Advise(ctx, kb, feats, AdviseOptions{})
		if err != nil {
			return
		}
		if _, err := json.Marshal(adv); err != nil {
			t.Fatalf("advice from snapshot %q does not encode: %v", body, err)
		}
		if !slices.IsSortedFunc(adv.Neighbours, func(a, b Neighbour) int { return cmp.Compare(a.Distance, b.Distance) }) {
			t.Fatalf("advice from snapshot %q lists neighbours out of order: %+v", body, adv.Neighbours)
		}
	})
}
