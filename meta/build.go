package meta

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/pipeline"
)

// CorpusDataset is one dataset of a build: a CSV file and how to train on
// it (the fields of a bench manifest row).
type CorpusDataset struct {
	File          string
	Target        string
	Task          string // "" or "auto" detects it
	TimeColumn    string
	PositiveClass string
}

// BuildOptions tune Build; the zero value is the documented default.
type BuildOptions struct {
	// MaxRows caps the rows the design is scored on (a seeded sample,
	// in file order); 0 means 2000. Meta-features read the whole file.
	MaxRows int
	// Folds is the CV folds per configuration; 0 means 3.
	Folds int
	// Jobs is how many datasets are scored at once; 0 means 2.
	Jobs int
	// Seed seeds the row samples, folds and learners; 0 means 42.
	Seed uint64
	// Done, if set, is called after each dataset (err nil when it was
	// recorded or skipped as already known), from one goroutine at a time.
	Done func(d CorpusDataset, skipped bool, err error)
	// Executor, if not nil, scores the datasets as units of kind
	// UnitKind, one per dataset (on tabforge workers with a
	// dist.Executor; see UnitRunner), instead of Jobs at a time here.
	Executor pipeline.Executor
	// CodeVersion is part of the units' keys, so that results a queue
	// keeps from another tabforge build are not reused.
	CodeVersion string
}

// BuildReport says what Build did.
type BuildReport struct {
	Scored, Skipped int
	Failed          map[string]string // file → error
	Warnings        []string
	Seconds         float64
}

// Build scores Design on every dataset not yet in kb and records each
// dataset's meta-features (of the whole file) and evaluations in kb, o.Jobs
// datasets at a time. A dataset already known (same content and target)
// is skipped, so an interrupted build resumes where it stopped; one that
// fails is reported and the build goes on.
func Build(ctx context.Context, kb *KB, corpus []CorpusDataset, o BuildOptions) (*BuildReport, error) {
	t0 := time.Now()
	rep := &BuildReport{Failed: map[string]string{}}
	if o.Executor != nil {
		err := buildUnits(ctx, kb, corpus, o, rep)
		rep.Seconds = time.Since(t0).Seconds()
		return rep, err
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cmpOr(o.Jobs, 2))
	for _, d := range corpus {
		g.Go(func() error {
			skipped, warnings, err := buildOne(gctx, kb, d, o)
			if gctx.Err() != nil {
				return gctx.Err()
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				rep.Failed[d.File] = err.Error()
			case skipped:
				rep.Skipped++
			default:
				rep.Scored++
			}
			for _, w := range warnings {
				rep.Warnings = append(rep.Warnings, filepath.Base(d.File)+": "+w)
			}
			if o.Done != nil {
				o.Done(d, skipped, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return rep, fmt.Errorf("meta: build: %w", err)
	}
	rep.Seconds = time.Since(t0).Seconds()
	return rep, nil
}

// buildOne scores the design on one dataset and records it.
func buildOne(ctx context.Context, kb *KB, d CorpusDataset, o BuildOptions) (skipped bool, warnings []string, err error) {
	f, known, err := readUnknown(ctx, kb, d)
	if err != nil || known {
		return known, nil, err
	}
	e, warnings, err := scoreDataset(ctx, f, d, o)
	if err != nil {
		return false, warnings, err
	}
	return false, warnings, kb.RecordExperiment(ctx, e)
}

// readUnknown reads d's file; known is true when kb already holds it
// (same content and target).
func readUnknown(ctx context.Context, kb *KB, d CorpusDataset) (f *frame.Frame, known bool, err error) {
	f, err = frame.ReadFile(d.File, frame.ReadOptions{})
	if err != nil {
		return nil, false, err
	}
	if _, err := kb.Dataset(ctx, DatasetKey(f.Hash(), d.Target)); err == nil {
		return f, true, nil
	} else if !isNotFound(err) {
		return nil, false, err
	}
	return f, false, nil
}

// buildConfig is the run configuration d's design is scored with.
func buildConfig(d CorpusDataset, o BuildOptions) *config.Config {
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.TimeColumn, cfg.PositiveClass = d.File, d.Target, d.TimeColumn, d.PositiveClass
	if d.Task != "" {
		cfg.Task = config.Task(d.Task)
	}
	cfg.CVFolds, cfg.Workers = cmpOr(o.Folds, 3), 1
	if o.Seed != 0 {
		cfg.Seed = o.Seed
	}
	return cfg
}

// scoreDataset scores the design on f, the file of d, subsampled to
// o.MaxRows rows. The experiment's Table is the whole file's.
func scoreDataset(ctx context.Context, f *frame.Frame, d CorpusDataset, o BuildOptions) (*pipeline.Experiment, []string, error) {
	cfg := buildConfig(d, o)
	full, err := pipeline.LoadTrainingTable(f, cfg)
	if err != nil {
		return nil, nil, err
	}
	sample := f
	if n := cmpOr(o.MaxRows, 2000); f.NumRows() > n {
		rng := rand.New(rand.NewPCG(cfg.Seed, uint64(f.NumRows())))
		rows := rng.Perm(f.NumRows())[:n]
		slices.Sort(rows)
		sample = f.Take(rows)
	}
	e, warnings, err := pipeline.ScoreConfigs(ctx, sample, cfg, Design(full.Task), nil)
	if err != nil && cfg.TimeColumn != "" && ctx.Err() == nil {
		// Time-series folds fail on a sample whose times are too few or
		// too concentrated; shuffled folds still rank configurations.
		cfg.TimeColumn = ""
		warnings = append(warnings, fmt.Sprintf("time-series CV failed (%v); scored with shuffled folds", err))
		var more []string
		e, more, err = pipeline.ScoreConfigs(ctx, sample, cfg, Design(full.Task), nil)
		warnings = append(warnings, more...)
	}
	if err != nil {
		return nil, nil, err
	}
	e.Dataset, e.Name, e.Table = f.Hash(), filepath.Base(d.File), full
	if len(e.Evaluations) == 0 {
		return nil, warnings, fmt.Errorf("no configuration could be scored")
	}
	return e, warnings, nil
}
