package meta

import (
	"bytes"
	"compress/gzip"
	"context"
	_ "embed" // the shipped knowledge base
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/tabforge/tabforge/internal/atomicfile"
	"github.com/tabforge/tabforge/internal/formatversion"
	"github.com/tabforge/tabforge/store"
)

// SnapshotVersion is the format version of a Snapshot file.
const SnapshotVersion = 1

// Snapshot is a knowledge base as one value: every known dataset and
// every evaluation, as written by WriteSnapshot (gzip JSON) and shipped
// in the binary (Shipped).
type Snapshot struct {
	Version  int        `json:"version"`
	Datasets []*Dataset `json:"datasets"`
	Evals    []*Eval    `json:"evals"`
}

//go:embed shipped.json.gz
var shipped []byte

// Shipped returns the knowledge base built into the binary by `tabforge
// meta build` from the meta corpus (see the package doc for the command).
func Shipped() (*Snapshot, error) {
	s, err := ReadSnapshot(bytes.NewReader(shipped))
	if err != nil {
		return nil, fmt.Errorf("meta: shipped knowledge base: %w", err)
	}
	return s, nil
}

// ReadSnapshot decodes a gzip JSON snapshot.
func ReadSnapshot(r io.Reader) (*Snapshot, error) {
	return readSnapshot(r, "snapshot", false)
}

// readSnapshot is ReadSnapshot; what names the input in its errors. When
// strict, a member this build does not know is an error (see
// ReadSnapshotFileToUpdate).
func readSnapshot(r io.Reader, what string, strict bool) (*Snapshot, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		// gzip's "invalid header" alone does not say what was expected.
		return nil, fmt.Errorf("meta: %s: not a knowledge base file (gzip JSON, as meta export and meta build write): %w", what, err)
	}
	defer zr.Close()
	// The version is checked before the datasets and evaluations are
	// decoded: a newer format's may not decode by this build's rules, and
	// must read as newer, not as malformed.
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("meta: %s: %w", what, err)
	}
	var raw struct {
		Version  int             `json:"version"`
		Datasets json.RawMessage `json:"datasets"`
		Evals    json.RawMessage `json:"evals"`
	}
	if err := decodeJSON(bytes.NewReader(data), &raw, false); err != nil {
		return nil, fmt.Errorf("meta: %s: %w", what, err)
	}
	if raw.Version > SnapshotVersion {
		return nil, fmt.Errorf("meta: %s: %w", what, formatversion.Check("knowledge base", raw.Version, SnapshotVersion, SnapshotVersion))
	}
	if strict {
		if err := decodeJSON(bytes.NewReader(data), &raw, true); err != nil {
			return nil, snapshotDecodeError(what, err)
		}
	}
	if raw.Version != SnapshotVersion {
		return nil, fmt.Errorf("meta: %s: format version %d, want %d (written by an older tabforge: rebuild it with tabforge meta build, or export it again)", what, raw.Version, SnapshotVersion)
	}
	s := Snapshot{Version: raw.Version}
	for _, part := range []struct {
		data json.RawMessage
		dst  any
	}{{raw.Datasets, &s.Datasets}, {raw.Evals, &s.Evals}} {
		if len(part.data) == 0 {
			continue
		}
		if err := decodeJSON(bytes.NewReader(part.data), part.dst, strict); err != nil {
			return nil, snapshotDecodeError(what, err)
		}
	}
	for i, d := range s.Datasets {
		if d == nil {
			return nil, fmt.Errorf("meta: %s: dataset %d is null", what, i)
		}
		if d.Features == nil {
			return nil, fmt.Errorf("meta: %s: dataset %s has no meta-features", what, d.Key)
		}
	}
	if i := slices.Index(s.Evals, nil); i >= 0 {
		return nil, fmt.Errorf("meta: %s: evaluation %d is null", what, i)
	}
	return &s, nil
}

// ReadSnapshotFile reads a snapshot file; a missing file is an empty
// snapshot, so a build can start from nothing and resume from its output.
// Errors name the file: meta build and meta eval read theirs from flags,
// and "unexpected EOF" alone did not say which file was truncated.
func ReadSnapshotFile(path string) (*Snapshot, error) {
	return readSnapshotFile(path, false)
}

// ReadSnapshotFileToUpdate is ReadSnapshotFile for a file this build will
// rewrite (meta build resuming its --out): a member this build does not
// know is an error. A newer tabforge may add members without a new format
// version, since older builds read the file well without them; rewriting
// it through this build's types would drop them silently.
func ReadSnapshotFileToUpdate(path string) (*Snapshot, error) {
	return readSnapshotFile(path, true)
}

func readSnapshotFile(path string, strict bool) (*Snapshot, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return &Snapshot{Version: SnapshotVersion}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	defer f.Close()
	return readSnapshot(f, "knowledge base "+path, strict)
}

// decodeJSON decodes one JSON value from r into v; strict refuses members
// v's types do not have.
func decodeJSON(r io.Reader, v any, strict bool) error {
	d := json.NewDecoder(r)
	if strict {
		d.DisallowUnknownFields()
	}
	return d.Decode(v)
}

// snapshotDecodeError wraps a decoding error of the snapshot what, saying
// what an unknown member means.
func snapshotDecodeError(what string, err error) error {
	if strings.HasPrefix(err.Error(), "json: unknown field ") {
		return fmt.Errorf("meta: %s holds %s, which this tabforge does not know (written by a newer one?); rewriting the file would drop it: use the tabforge that wrote it, or another file", what, strings.TrimPrefix(err.Error(), "json: unknown "))
	}
	return fmt.Errorf("meta: %s: %w", what, err)
}

// Write encodes s as gzip JSON: datasets and evaluations in key order,
// without the meta-features' compute times and run ids, so the same
// knowledge gives the same bytes.
func (s *Snapshot) Write(w io.Writer) error {
	c := Snapshot{Version: SnapshotVersion}
	for _, d := range s.Datasets {
		d2 := *d
		f := *d.Features
		f.Seconds, f.Total = nil, 0
		d2.Features = &f
		d2.Updated = d2.Updated.UTC().Truncate(1e9)
		c.Datasets = append(c.Datasets, &d2)
	}
	for _, e := range s.Evals {
		e2 := *e
		e2.RunID = ""
		c.Evals = append(c.Evals, &e2)
	}
	sort.Slice(c.Datasets, func(i, j int) bool { return c.Datasets[i].Key < c.Datasets[j].Key })
	sort.Slice(c.Evals, func(i, j int) bool {
		return c.Evals[i].Dataset+"/"+c.Evals[i].ID < c.Evals[j].Dataset+"/"+c.Evals[j].ID
	})
	zw, _ := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err := json.NewEncoder(zw).Encode(c); err != nil {
		return fmt.Errorf("meta: snapshot: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("meta: snapshot: %w", err)
	}
	return nil
}

// WriteFile writes s to path atomically (a temporary file, synced, then
// renamed over it), so an interrupted build, or a crash, never leaves a
// truncated or empty knowledge base.
func (s *Snapshot) WriteFile(path string) error {
	if err := atomicfile.Write(path, s.Write); err != nil {
		return fmt.Errorf("meta: %w", err)
	}
	return nil
}

// Records returns s as an in-memory store.Records (writable, never
// persisted), to put beneath a store's records with Layered.
func (s *Snapshot) Records() store.Records {
	m := newMemRecords()
	ctx := context.Background()
	for _, d := range s.Datasets {
		b, _ := json.Marshal(d)
		_ = m.PutRecord(ctx, KindDataset, d.Key, b)
	}
	for _, e := range s.Evals {
		b, _ := json.Marshal(e)
		_ = m.PutRecord(ctx, KindEval, e.Dataset+"/"+e.ID, b)
	}
	return m
}

// Snapshot returns every dataset and evaluation of the knowledge base.
func (kb *KB) Snapshot(ctx context.Context) (*Snapshot, error) {
	ds, err := kb.Datasets(ctx)
	if err != nil {
		return nil, err
	}
	s := &Snapshot{Version: SnapshotVersion, Datasets: ds}
	for _, d := range ds {
		evals, err := kb.Evals(ctx, d.Key)
		if err != nil {
			return nil, err
		}
		s.Evals = append(s.Evals, evals...)
	}
	return s, nil
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// WithShipped returns the knowledge base of a training run: recs (the
// user's store, where runs record their experiments) over the shipped
// knowledge base.
func WithShipped(recs store.Records) (*KB, error) {
	s, err := Shipped()
	if err != nil {
		return nil, err
	}
	return &KB{Records: Layered{Top: recs, Base: s.Records()}}, nil
}

// Import writes every dataset and evaluation of s into the knowledge
// base, replacing records with the same keys (evaluations in one batch
// when the store writes batches), and returns how many of each it wrote.
func (kb *KB) Import(ctx context.Context, s *Snapshot) (datasets, evals int, err error) {
	for _, d := range s.Datasets {
		if d.Key == "" || d.Features == nil {
			return 0, 0, fmt.Errorf("meta: import: dataset %q has no key or meta-features", d.Key)
		}
		if err := kb.PutDataset(ctx, d); err != nil {
			return 0, 0, err
		}
	}
	recs := make([]*store.Record, 0, len(s.Evals))
	for _, e := range s.Evals {
		if e.Dataset == "" || e.ID == "" {
			return len(s.Datasets), 0, fmt.Errorf("meta: import: evaluation %q of %q has no id or dataset", e.ID, e.Dataset)
		}
		b, err := json.Marshal(e)
		if err != nil {
			return len(s.Datasets), 0, fmt.Errorf("meta: import: evaluation %s: %w", e.ID, err)
		}
		recs = append(recs, &store.Record{Kind: KindEval, Key: e.Dataset + "/" + e.ID, Value: b, Updated: kb.now()})
	}
	if err := kb.putAll(ctx, recs); err != nil {
		return len(s.Datasets), 0, err
	}
	return len(s.Datasets), len(recs), nil
}
