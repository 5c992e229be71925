package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/store"
)

// InputsKind is the record kind of recorded runs' input files besides
// their data: key the run id, value RunInputs as JSON. Train writes it
// with the run record; resuming the run reads it.
const InputsKind = "run.inputs"

// RunInputs says where a run read the files its config names besides its
// data (whose path and hash the run record keeps). The config keeps
// those paths as given, often relative, and they are part of its hash:
// resuming the run from another directory reads them from Dir, and
// refuses a file whose content is no longer what the run read.
type RunInputs struct {
	// Dir is the working directory the run's relative paths are
	// relative to.
	Dir string `json:"dir"`
	// Files are the files the run read, by config key.
	Files []InputFile `json:"files,omitempty"`
}

// InputFile is one file a run read: the config key naming it, its
// absolute path and the SHA-256 of its content, hex.
type InputFile struct {
	Key  string `json:"key"`
	Path string `json:"path"`
	Hash string `json:"hash"`
}

// inputPaths returns the config keys holding paths of files a run reads
// besides its data, with their values; empty values are left out. The
// store, output and artifact locations are not inputs: a resumed run
// takes them from its own invocation (ResumeConfig).
func inputPaths(cfg *config.Config) map[string]string {
	out := map[string]string{}
	if cfg.TestRows != "" {
		out["test_rows"] = cfg.TestRows
	}
	return out
}

// inDir returns path as read from dir: path itself when it is absolute
// or dir is "".
func inDir(dir, path string) string {
	if dir == "" || path == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}

func fileHash(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return contentHash(b), nil
}

// recordInputs writes the run's RunInputs, under its lease when it has
// one. A file that cannot be read is left out: the split reports it.
func (r *trainRun) recordInputs(ctx context.Context) error {
	recs, ok := r.o.Runs.(store.Records)
	if !ok {
		return nil
	}
	in := RunInputs{Dir: r.dir}
	if in.Dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return fmt.Errorf("run %s: working directory: %w", r.rec.ID, err)
		}
		in.Dir = wd
	}
	for key, path := range inputPaths(r.cfg) {
		abs := inDir(in.Dir, path)
		if h, err := fileHash(abs); err == nil {
			in.Files = append(in.Files, InputFile{Key: key, Path: abs, Hash: h})
		}
	}
	b, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("run %s: inputs: %w", r.rec.ID, err)
	}
	if sw, ok := recs.(store.Swapper); ok && r.lease != nil {
		err = store.PutRecordFenced(ctx, sw, InputsKind, r.rec.ID, b, r.lease.Fence())
	} else {
		err = recs.PutRecord(ctx, InputsKind, r.rec.ID, b)
	}
	if err != nil {
		return fmt.Errorf("run %s: recording its input files: %w", r.rec.ID, err)
	}
	return nil
}

// resumedInputs makes a resumed run read its input files where it first
// did, and refuses one whose content changed since: under its id, trials
// and queued results of the old split would be reused for the new. A run
// recorded before runs kept their inputs reads them from the working
// directory, as it did.
func (r *trainRun) resumedInputs(ctx context.Context) error {
	if r.o.Resume == "" {
		return nil
	}
	in, err := runInputs(ctx, r.o.Runs, r.o.Resume)
	if err != nil {
		return fmt.Errorf("resume %s: its input files: %w", r.o.Resume, err)
	}
	if in == nil {
		return nil
	}
	if err := in.changed(); err != nil {
		return fmt.Errorf("resume %s: %w", r.o.Resume, err)
	}
	r.dir = in.Dir
	return nil
}

// runInputs returns the RunInputs of run id; nil for a run recorded
// before runs kept them, or a store that keeps no records.
func runInputs(ctx context.Context, runs store.Runs, id string) (*RunInputs, error) {
	recs, ok := runs.(store.Records)
	if !ok {
		return nil, nil
	}
	rec, err := recs.GetRecord(ctx, InputsKind, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var in RunInputs
	if err := json.Unmarshal(rec.Value, &in); err != nil {
		return nil, err
	}
	return &in, nil
}

// changed reports the first of the run's input files that cannot be
// read, or whose content is not what the run read.
func (in *RunInputs) changed() error {
	for _, f := range in.Files {
		h, err := fileHash(f.Path)
		if err != nil {
			return fmt.Errorf("%s %s, which the run read: %w", f.Key, f.Path, err)
		}
		if h != f.Hash {
			return fmt.Errorf("%s %s changed since the run read it (hash %.12s, the run's %.12s)", f.Key, f.Path, h, f.Hash)
		}
	}
	return nil
}
