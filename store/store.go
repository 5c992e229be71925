// Package store owns tabforge's persistent records: runs (their config,
// dataset version, leaderboard, timings and status) and, in later
// versions, studies, the step cache, version mappings and the registry.
// It defines the records and the interface; store/sqlite (the embedded
// default) and store/redis implement it.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Status is the state of a run.
type Status string

// Run states.
const (
	Running   Status = "running"
	Succeeded Status = "succeeded"
	Failed    Status = "failed"
)

// Run is one training run's record.
type Run struct {
	ID          string          `json:"id"`
	Created     time.Time       `json:"created"`
	Finished    time.Time       `json:"finished,omitzero"`
	Status      Status          `json:"status"`
	DatasetPath string          `json:"dataset_path"`
	DatasetHash string          `json:"dataset_hash"`
	ConfigHash  string          `json:"config_hash"`
	Config      json.RawMessage `json:"config"`
	Task        string          `json:"task"`
	Target      string          `json:"target"`
	Best        string          `json:"best,omitempty"`
	ModelPath   string          `json:"model_path,omitempty"`
	// Result holds the run's full result (leaderboard, metrics, timings)
	// as JSON, so the store does not depend on the pipeline's types.
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
}

// ErrNotFound reports an unknown record.
var ErrNotFound = errors.New("not found")

// Runs is the part of a store that records runs.
type Runs interface {
	// PutRun inserts or replaces the run with r.ID.
	PutRun(ctx context.Context, r *Run) error
	// GetRun returns the run with the given id or a unique id prefix.
	GetRun(ctx context.Context, id string) (*Run, error)
	// ListRuns returns up to limit runs, newest first; limit 0 means all.
	ListRuns(ctx context.Context, limit int) ([]*Run, error)
}

// Record is one keyed value in a record space. Kinds separate the spaces
// that sit on top of it: the model registry, dataset and model version
// mappings, the experiment log and the step cache.
type Record struct {
	Kind    string    `json:"kind"`
	Key     string    `json:"key"`
	Value   []byte    `json:"value"`
	Updated time.Time `json:"updated"`
}

// Records is a keyed record space. Writes of the same (kind, key) replace
// each other, so replaying a write is harmless.
type Records interface {
	// PutRecord inserts or replaces the value of (kind, key).
	PutRecord(ctx context.Context, kind, key string, value []byte) error
	// GetRecord returns the record of (kind, key), or an error wrapping
	// ErrNotFound.
	GetRecord(ctx context.Context, kind, key string) (*Record, error)
	// ListRecords returns the records of kind whose key starts with
	// prefix, ordered by key.
	ListRecords(ctx context.Context, kind, prefix string) ([]*Record, error)
	// DeleteRecord removes (kind, key); deleting a missing record is not
	// an error.
	DeleteRecord(ctx context.Context, kind, key string) error
}
