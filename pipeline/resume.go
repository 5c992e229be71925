package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/store"
)

// ResumeConfig returns the config to continue the interrupted run id
// with (Options.Resume): the recorded one, with the operational settings
// of now (store, executor, queue, output directories, logging, workers),
// which never change results. A run that succeeded, or whose process
// still holds its lease, cannot be resumed.
//
// Resuming repeats the run under its id. Its tuning studies continue
// from their recorded trials (trials the dead driver left running are
// retried with their parameters), and on a queue the units whose results
// are already in the results bucket are read, not run again. Train reads
// the run's input files where the run first did, from any directory: the
// data by its recorded absolute path, test_rows by the run's RunInputs.
func ResumeConfig(ctx context.Context, runs store.Runs, id string, now *config.Config) (*config.Config, *store.Run, error) {
	rec, err := runs.GetRun(ctx, id)
	if err != nil {
		return nil, nil, fmt.Errorf("resume %s: %w", id, err)
	}
	recs, _ := runs.(store.Records)
	status, err := RunStatus(ctx, recs, rec, time.Now())
	if err != nil {
		return nil, nil, fmt.Errorf("resume %s: %w", rec.ID, err)
	}
	switch status {
	case store.Succeeded:
		return nil, nil, fmt.Errorf("resume %s: the run succeeded; nothing to resume", rec.ID)
	case store.Running:
		return nil, nil, fmt.Errorf("resume %s: the run is still running (its process holds the lease); stop it first or wait for its lease to expire", rec.ID)
	}
	cfg := config.Default()
	if err := json.Unmarshal(rec.Config, cfg); err != nil {
		return nil, nil, fmt.Errorf("resume %s: recorded config: %w", rec.ID, err)
	}
	if h := cfg.Hash(); h != rec.ConfigHash {
		return nil, nil, fmt.Errorf("resume %s: the recorded config decodes to hash %.12s, not %.12s (a different tabforge build?)", rec.ID, h, rec.ConfigHash)
	}
	// The recorded --data is as train was given it, relative to where it
	// ran; from elsewhere it names another file or none. The record holds
	// its absolute path (data is not part of the config's hash).
	if filepath.IsAbs(rec.DatasetPath) {
		cfg.Data = rec.DatasetPath
	}
	cfg.Store, cfg.Executor, cfg.Queue, cfg.ExecutorFallback = now.Store, now.Executor, now.Queue, now.ExecutorFallback
	cfg.Out, cfg.Artifacts, cfg.LogFormat, cfg.LogLevel, cfg.Workers = now.Out, now.Artifacts, now.LogFormat, now.LogLevel, now.Workers
	return cfg, rec, nil
}
