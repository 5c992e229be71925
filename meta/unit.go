package meta

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/pipeline"
)

// UnitKind is the pipeline.Unit kind of one dataset of a build.
const UnitKind = "meta_dataset"

// datasetSpec is a build unit's work by reference: the dataset's file and
// content hash, and how its design is scored.
type datasetSpec struct {
	File          string `json:"file"`
	Hash          string `json:"hash"`
	Target        string `json:"target"`
	Task          string `json:"task,omitempty"`
	TimeColumn    string `json:"time_column,omitempty"`
	PositiveClass string `json:"positive_class,omitempty"`
	MaxRows       int    `json:"max_rows"`
	Folds         int    `json:"folds"`
	Seed          uint64 `json:"seed,omitempty"`
	// Configs are the IDs of the design configurations to score: those
	// the driver's knowledge base lacks.
	Configs []string `json:"configs"`
}

func (s datasetSpec) corpus() CorpusDataset {
	return CorpusDataset{File: s.File, Target: s.Target, Task: s.Task, TimeColumn: s.TimeColumn, PositiveClass: s.PositiveClass}
}

func (s datasetSpec) options() BuildOptions {
	return BuildOptions{MaxRows: s.MaxRows, Folds: s.Folds, Seed: s.Seed}
}

// key is the unit key: everything the scores depend on (the content,
// not the path, of the file) and the code version.
func (s datasetSpec) key(codeVersion string) string {
	s.File = ""
	b, _ := json.Marshal(s)
	h := sha256.Sum256(append(b, codeVersion...))
	return UnitKind + ":" + hex.EncodeToString(h[:16])
}

// datasetResult is a build unit's result. A dataset that cannot be
// scored is a result with Err (the build reports it and goes on), not a
// failed unit.
type datasetResult struct {
	Metric         string     `json:"metric"`
	HigherIsBetter bool       `json:"higher_is_better"`
	RunID          string     `json:"run_id,omitempty"`
	Stages         []string   `json:"stages,omitempty"`
	Evaluations    []evalWire `json:"evaluations,omitempty"`
	Warnings       []string   `json:"warnings,omitempty"`
	Err            string     `json:"error,omitempty"`
}

// evalWire is an Evaluation whose NaN scores (a fold not scored) travel
// as null, which JSON can carry.
type evalWire struct {
	pipeline.Evaluation
	Score      *float64   `json:"score"`
	FoldScores []*float64 `json:"fold_scores,omitempty"`
}

func encodeExperiment(e *pipeline.Experiment, warnings []string, err error) ([]byte, error) {
	r := datasetResult{Warnings: warnings}
	if err != nil {
		r.Err = err.Error()
		return json.Marshal(r)
	}
	r.Metric, r.HigherIsBetter, r.RunID, r.Stages = e.Metric, e.HigherIsBetter, e.RunID, e.Stages
	for _, ev := range e.Evaluations {
		w := evalWire{Evaluation: ev, Score: eval.JSONValue(ev.Score)}
		for _, v := range ev.FoldScores {
			w.FoldScores = append(w.FoldScores, eval.JSONValue(v))
		}
		r.Evaluations = append(r.Evaluations, w)
	}
	return json.Marshal(r)
}

// experiment decodes r into the experiment of dataset d (file f, whose
// training part meta-features describe).
func (r *datasetResult) experiment(f *frame.Frame, d CorpusDataset, o BuildOptions) (*pipeline.Experiment, error) {
	full, err := queryTable(f, d, o)
	if err != nil {
		return nil, err
	}
	e := &pipeline.Experiment{RunID: r.RunID, Dataset: f.Hash(), Name: filepath.Base(d.File), Target: d.Target, Table: full,
		Metric: r.Metric, HigherIsBetter: r.HigherIsBetter, Stages: r.Stages}
	for _, w := range r.Evaluations {
		ev := w.Evaluation
		ev.Score, ev.FoldScores = eval.FromJSONValue(w.Score), nil
		for _, v := range w.FoldScores {
			ev.FoldScores = append(ev.FoldScores, eval.FromJSONValue(v))
		}
		e.Evaluations = append(e.Evaluations, ev)
	}
	return e, nil
}

// buildUnits is Build with o.Executor: the driver refreshes the
// meta-features of the datasets kb knows when o.RefreshFeatures, skips
// those it knows fully, sends one unit per other dataset with the
// configurations kb lacks, and records each result as it arrives. A unit's key is its dataset's content and the scoring options,
// so a redelivered unit, or one a rerun sends again, finds its result.
func buildUnits(ctx context.Context, kb *KB, corpus []CorpusDataset, o BuildOptions, rep *BuildReport) error {
	var units []pipeline.Unit
	refreshed := map[int]bool{} // by position in corpus
	report := func(i int, skipped bool, warnings []string, err error) {
		rep.add(corpus[i], skipped, refreshed[i], warnings, err, o.Done)
	}
	var sentAt []int // positions in corpus of the units' datasets
	for i, d := range corpus {
		f, missing, err := pending(ctx, kb, d, o)
		if err == nil && o.RefreshFeatures {
			refreshed[i], err = refreshFeatures(ctx, kb, f, d, o)
		}
		if err != nil || len(missing) == 0 {
			report(i, err == nil, nil, err)
			continue
		}
		s := datasetSpec{File: d.File, Hash: f.Hash(), Target: d.Target, Task: d.Task, TimeColumn: d.TimeColumn,
			PositiveClass: d.PositiveClass, MaxRows: cmpOr(o.MaxRows, 2000), Folds: cmpOr(o.Folds, 3), Seed: o.Seed,
			Configs: missing}
		spec, _ := json.Marshal(s)
		key := s.key(o.CodeVersion)
		// Run (a local executor, or the fallback without workers) reads
		// the file again as a worker does, so the build holds one table
		// at a time, not the corpus.
		units = append(units, pipeline.Unit{Key: key, Kind: UnitKind, Spec: spec, Run: func(ctx context.Context) ([]byte, error) {
			return UnitRunner{CodeVersion: o.CodeVersion}.Run(ctx, key, UnitKind, spec, 1)
		}})
		sentAt = append(sentAt, i)
	}
	err := o.Executor.Execute(ctx, units, func(i int, r pipeline.UnitResult) error {
		at := sentAt[i]
		d := corpus[at]
		var res datasetResult
		if err := json.Unmarshal(r.Value, &res); err != nil {
			report(at, false, nil, fmt.Errorf("result of unit %s: %w", units[i].Key, err))
			return nil
		}
		if res.Err != "" {
			report(at, false, res.Warnings, errors.New(res.Err))
			return nil
		}
		f, err := frame.ReadFile(d.File, frame.ReadOptions{})
		if err != nil {
			report(at, false, res.Warnings, err)
			return nil
		}
		e, err := res.experiment(f, d, o)
		if err == nil {
			err = kb.RecordExperiment(ctx, e)
		}
		report(at, false, res.Warnings, err)
		return ctx.Err()
	})
	if err != nil {
		return fmt.Errorf("meta: build: %w", err)
	}
	return nil
}

// runDataset scores s's design on f and encodes the result; only a
// cancelled ctx is an error.
func runDataset(ctx context.Context, f *frame.Frame, s datasetSpec) ([]byte, error) {
	e, warnings, err := scoreDataset(ctx, f, s.corpus(), s.options(), s.Configs)
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	return encodeExperiment(e, warnings, err)
}

// UnitRunner runs build units (kind UnitKind) in a tabforge worker. It
// reads the dataset from the path the driver sent, or, when that is
// missing or holds other data, from Fetch, and checks its content hash.
type UnitRunner struct {
	// CodeVersion must be the driver's BuildOptions.CodeVersion: a unit
	// whose key differs was sent by another build and is refused.
	CodeVersion string
	// Fetch, if not nil, returns a local path holding the dataset with
	// content hash hash that the driver read at path.
	Fetch func(ctx context.Context, hash, path string) (string, error)
}

// Run implements dist.Runner.
func (u UnitRunner) Run(ctx context.Context, key, kind string, spec json.RawMessage, _ int) ([]byte, error) {
	if kind != UnitKind {
		return nil, fmt.Errorf("meta: unit kind %q is not %s", kind, UnitKind)
	}
	var s datasetSpec
	if err := json.Unmarshal(spec, &s); err != nil {
		return nil, fmt.Errorf("meta: unit spec: %w", err)
	}
	if k := s.key(u.CodeVersion); k != key {
		return nil, fmt.Errorf("meta: unit %s rebuilds to key %s (a different tabforge build?)", key, k)
	}
	f, err := frame.ReadFile(s.File, frame.ReadOptions{})
	if (err != nil || f.Hash() != s.Hash) && u.Fetch != nil {
		var path string
		if path, err = u.Fetch(ctx, s.Hash, s.File); err == nil {
			f, err = frame.ReadFile(path, frame.ReadOptions{})
		}
	}
	if err != nil {
		return nil, fmt.Errorf("meta: dataset %s: %w", s.File, err)
	}
	if f.Hash() != s.Hash {
		return nil, fmt.Errorf("meta: dataset %s has hash %.12s, not %.12s", s.File, f.Hash(), s.Hash)
	}
	return runDataset(ctx, f, s)
}
